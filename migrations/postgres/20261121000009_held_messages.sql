-- Authentic inbound messages the switch could not apply, kept as they came: a projection of
-- the HeldMessage events, shown to the back office as exceptions with the raw message.
CREATE TABLE held_messages
(
    message_hash  text   PRIMARY KEY,
    endpoint      text   NOT NULL,
    party         text   NOT NULL,
    uetr          text,
    message_id    text,
    reason        text   NOT NULL,
    body          text   NOT NULL,
    headers       text   NOT NULL,
    received_at   text   NOT NULL,
    last_sequence bigint NOT NULL
);
CREATE INDEX held_messages_received ON held_messages (received_at);
CREATE INDEX held_messages_uetr ON held_messages (uetr);
