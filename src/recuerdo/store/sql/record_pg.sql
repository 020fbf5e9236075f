-- recuerdo_record: the hot path of Memory.record_message, server-side, for a batch of messages
-- in one round trip. Same rules as store/ops.py (the Python operation stays the reference: the
-- contract tests run both). A client seen for the first time is created here with all its
-- identifiers, as ops.ensure_client does. Items it cannot place on the fast path (a message
-- older than its client's open conversation, no open conversation but a recent past one, a
-- new client that another writer created meanwhile) end the call with status 'slow'; Python
-- records that item and calls again with the rest, so order is kept.
--
-- Few statements per message, as each costs an executor start: one read finds the client by
-- its first identifier, locks it, and answers whether the external id is stored and how its
-- open conversation stands (as ops.S_FIND_FOR_RECORD does on SQLite); one statement writes the
-- message, its conversation's counters and its client's (data-modifying WITH). Answers are
-- collected in an array and turned into JSON once (appending to a jsonb copies it every time);
-- a stored message is answered with the ids the caller lacks, not echoed whole. A message's
-- identifiers are walked by index, not with FOR … IN SELECT, which opens a cursor per message
-- (about 4% of the server's time per message in a batch of 32). The client's search-queue mark
-- (clients.unindexed_from) is kept at or below the new message's id: written unchanged, as it
-- nearly always is, it leaves the update HOT.
CREATE OR REPLACE FUNCTION recuerdo_record(
    p_tenant bigint, p_items jsonb, p_idle interval, p_now timestamptz
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    item jsonb;
    k jsonb;
    out jsonb[] := '{}';
    v_msg messages%ROWTYPE;
    v_cid bigint;
    v_open bigint;
    v_last timestamptz;
    v_stored boolean;
    v_conv_last timestamptz;
    v_conv_thread text;
    v_at timestamptz;
    v_hour integer;
    v_thread text;
    v_ext text;
    v_role text;
    v_conv_id bigint;
    v_mid bigint;
    v_changed boolean;
    v_new boolean;
    v_first boolean;
    j integer;
BEGIN
    FOR item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        v_at := (item->>'at')::timestamptz;
        v_hour := floor(extract(epoch FROM v_at) / 3600)::integer;  -- rows.epoch_hour
        v_thread := item->>'thread_id';
        v_ext := item->>'external_id';
        v_role := item->>'role';
        v_cid := NULL;
        FOR j IN 0 .. jsonb_array_length(item->'keys') - 1 LOOP
            k := item->'keys'->j;
            SELECT c.id, c.open_conversation_id, c.last_interaction_at,
                   v_ext IS NOT NULL AND EXISTS (
                       SELECT 1 FROM messages m WHERE m.client_id = c.id
                          AND m.external_id = v_ext),
                   v.last_message_at, v.thread_id
              INTO v_cid, v_open, v_last, v_stored, v_conv_last, v_conv_thread
              FROM identifiers i JOIN clients c ON c.id = i.client_id
              LEFT JOIN conversations v ON v.client_id = c.id AND v.id = c.open_conversation_id
             WHERE i.tenant_id = p_tenant AND i.kind = k->>0 AND i.value = k->>1
               FOR UPDATE OF c;
            EXIT WHEN v_cid IS NOT NULL;
        END LOOP;
        IF v_cid IS NULL THEN
            INSERT INTO clients (tenant_id, profile_name, created_at, updated_at, tags,
                                 attributes, total_conversations, total_messages, bot_paused)
            VALUES (p_tenant, item->>'profile_name', v_at, v_at, '[]'::jsonb, '{}'::jsonb,
                    0, 0, false)
            RETURNING id INTO v_cid;
            v_open := NULL;
            v_last := NULL;
            v_first := true;
            FOR k IN SELECT value FROM jsonb_array_elements(item->'keys') LOOP
                INSERT INTO identifiers (tenant_id, kind, value, client_id, created_at)
                VALUES (p_tenant, k->>0, k->>1, v_cid, v_at)
                ON CONFLICT (tenant_id, kind, value) DO NOTHING;
                IF v_first AND NOT FOUND THEN
                    -- Another writer created this client since the lookup: Python takes it.
                    DELETE FROM clients WHERE id = v_cid;
                    RETURN to_jsonb(array_append(out, jsonb_build_object('status', 'slow')));
                END IF;
                v_first := false;
            END LOOP;
        ELSIF v_stored THEN
            SELECT * INTO v_msg FROM messages WHERE client_id = v_cid AND external_id = v_ext;
            out := array_append(out,
                jsonb_build_object('status', 'existing', 'row', to_jsonb(v_msg)));
            CONTINUE;
        END IF;
        v_new := true;
        v_changed := false;
        IF v_open IS NULL THEN
            IF v_last IS NOT NULL AND (v_at < v_last OR v_at - v_last <= p_idle) THEN
                RETURN to_jsonb(array_append(out, jsonb_build_object('status', 'slow')));
            END IF;
        ELSE
            IF v_at < v_conv_last THEN
                RETURN to_jsonb(array_append(out, jsonb_build_object('status', 'slow')));
            END IF;
            v_changed := v_thread IS NOT NULL AND v_conv_thread IS NOT NULL
                         AND v_conv_thread <> v_thread;
            IF NOT v_changed AND v_at - v_conv_last <= p_idle THEN
                v_new := false;
                v_conv_id := v_open;
                v_conv_thread := COALESCE(v_thread, v_conv_thread);
            ELSE
                UPDATE conversations SET ended_at = last_message_at,
                       end_reason = CASE WHEN v_changed THEN 'thread_change' ELSE 'idle' END
                 WHERE client_id = v_cid AND id = v_open AND ended_at IS NULL;
            END IF;
        END IF;
        IF v_new THEN
            v_conv_id := nextval('conversations_id_seq');
            v_conv_thread := v_thread;
            INSERT INTO conversations (client_id, id, thread_id, started_at, last_message_at,
                                       last_hour, n_user, n_assistant, n_operator, n_system,
                                       summary_status)
            VALUES (v_cid, v_conv_id, v_thread, v_at, v_at, v_hour, 0, 0, 0, 0, 'pending');
        END IF;
        v_mid := nextval('messages_id_seq');
        WITH conversation AS (
            UPDATE conversations SET
                   n_user = n_user + (v_role = 'user')::int,
                   n_assistant = n_assistant + (v_role = 'assistant')::int,
                   n_operator = n_operator + (v_role = 'manual_operator')::int,
                   n_system = n_system + (v_role = 'system')::int,
                   thread_id = COALESCE(thread_id, v_thread),
                   last_message_at = GREATEST(last_message_at, v_at),
                   last_hour = CASE WHEN last_message_at < v_at THEN v_hour ELSE last_hour END
             WHERE client_id = v_cid AND id = v_conv_id
        ), client AS (
            UPDATE clients SET total_messages = total_messages + 1,
                   total_conversations = total_conversations + v_new::int,
                   open_conversation_id = v_conv_id,
                   last_interaction_at = GREATEST(COALESCE(last_interaction_at, v_at), v_at),
                   active_hour = CASE WHEN last_interaction_at IS NULL
                                           OR last_interaction_at < v_at
                                      THEN v_hour ELSE active_hour END,
                   profile_name = COALESCE(item->>'profile_name', profile_name),
                   thread_id = COALESCE(thread_id, v_thread),
                   unindexed_from = LEAST(COALESCE(unindexed_from, v_mid), v_mid),
                   updated_at = p_now
             WHERE id = v_cid
        )
        INSERT INTO messages (client_id, id, conversation_id, thread_id, at, role, content,
                              content_type, external_id, metadata)
        VALUES (v_cid, v_mid, v_conv_id, COALESCE(v_thread, v_conv_thread),
                v_at, (item->>'role_code')::smallint, item->>'content', item->>'content_type',
                v_ext,
                CASE WHEN jsonb_typeof(item->'metadata') = 'object' THEN item->'metadata' END);
        -- The caller has the rest of the row: it sent it.
        out := array_append(out, jsonb_build_object(
            'status', 'created', 'client_id', v_cid, 'id', v_mid,
            'conversation_id', v_conv_id, 'thread_id', COALESCE(v_thread, v_conv_thread)));
    END LOOP;
    RETURN to_jsonb(out);
END
$$;
