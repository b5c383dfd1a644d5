-- 014: files an operator uploads in the reply composer (issue 5: "attachments
-- chosen from the ticket or uploaded").
--
-- An upload belongs to one ticket.  Its bytes wait here until a reply uses
-- it: then ticketd copies them into blob (by sha256, as every attachment)
-- and makes an attachment row of the outgoing message, in the reply's own
-- transaction, sets used_by_message_id and drops data (blob holds the
-- bytes from then on).  An upload nobody used is deleted by its uploader's
-- colleagues (DELETE .../uploads/ID) or swept by ticketd a day after
-- (ticketd.upload_keep_seconds).  Correspondence side: a citizen's letter
-- scanned by an operator holds personal data, so the grants are those of
-- attachment and blob, ticketd only.
CREATE TABLE reply_upload (
    id                  bigserial PRIMARY KEY,
    ticket_id           bigint NOT NULL REFERENCES ticket (id),
    data                bytea,
    filename            text NOT NULL CHECK (filename <> '' AND octet_length(filename) <= 255),
    content_type        text NOT NULL,
    size                bigint NOT NULL CHECK (size > 0),
    sha256              bytea NOT NULL,
    uploaded_by         text NOT NULL,
    uploaded_at         timestamptz NOT NULL,
    used_by_message_id  bigint NULL REFERENCES message (id),
    CHECK (data IS NOT NULL OR used_by_message_id IS NOT NULL)
);
CREATE INDEX reply_upload_ticket ON reply_upload (ticket_id);
-- the sweep reads only what waits
CREATE INDEX reply_upload_unused ON reply_upload (uploaded_at) WHERE used_by_message_id IS NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON reply_upload TO madoguchi_ticketd;
GRANT USAGE ON SEQUENCE reply_upload_id_seq TO madoguchi_ticketd;
