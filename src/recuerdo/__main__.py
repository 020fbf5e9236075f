from recuerdo.cli import main

main()
