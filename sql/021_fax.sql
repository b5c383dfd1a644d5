-- 021: the fax line (issue 7).  ingest-fax answers a call, writes the pages
-- to its spool while the call runs, and when the call ends commits, in one
-- transaction: the fax_call row, an inbound_item (channel 'fax') whose raw
-- bytes are the call record as JSON, the fax_item that tells intake what the
-- fax is, and one fax_page row per page received.  A call that never
-- trained leaves only its fax_call row (result 'no_fax' or 'failed') and no
-- inbound item, so no empty ticket.  Fax-to-mail: ingest-mail stores the
-- mail as an inbound_item of channel 'fax' (raw = the RFC 822 bytes) with a
-- fax_item of origin 'mail' and the pages rendered from its TIFF or PDF
-- attachments.  The pages are correspondence (purged with it); the caller
-- number and the remote identity are contact details.

CREATE TABLE fax_call (
    id               bigserial PRIMARY KEY,
    direction        text NOT NULL CHECK (direction IN ('in', 'out')),
    line             text NOT NULL,              -- the line's name in the config
    sip_call_id      text NOT NULL,
    did              text NOT NULL DEFAULT '',   -- in: the number dialled (digits); out: the number called
    caller           text NOT NULL DEFAULT '',   -- in: the calling number as the line gave it
    remote_ident     text NOT NULL DEFAULT '',   -- T.30 TSI (in) or CSI (out) of the other machine
    subaddress       text NOT NULL DEFAULT '',   -- T.30 SUB, when the sender gave one
    transport        text NOT NULL DEFAULT 'none'
                     CHECK (transport IN ('pcmu', 'pcma', 't38', 'none')),
    ecm              boolean,
    started_at       timestamptz NOT NULL,       -- INVITE received (in) or sent (out)
    answered_at      timestamptz,
    ended_at         timestamptz NOT NULL,
    pages            int NOT NULL DEFAULT 0,
    t30_code         int,                        -- spandsp's T30_ERR_* value at the end of the call
    t30_text         text NOT NULL DEFAULT '',   -- its text
    result           text NOT NULL CHECK (result IN ('ok', 'incomplete', 'failed', 'no_fax')),
    end_reason       text NOT NULL DEFAULT '',   -- who hung up, SIP status, timeout
    inbound_item_id  bigint REFERENCES inbound_item (id),
    UNIQUE (direction, line, sip_call_id)
);
CREATE INDEX fax_call_started ON fax_call (started_at DESC, id DESC);

-- What intake needs to make a ticket of a fax item (either origin).
CREATE TABLE fax_item (
    inbound_item_id  bigint PRIMARY KEY REFERENCES inbound_item (id),
    origin           text NOT NULL CHECK (origin IN ('line', 'mail')),
    fax_call_id      bigint REFERENCES fax_call (id),
    did              text NOT NULL DEFAULT '',   -- digits only; routes through route_rule.match_did
    caller           text NOT NULL DEFAULT '',   -- contact detail
    remote_ident     text NOT NULL DEFAULT '',   -- contact detail (TSI)
    subaddress       text NOT NULL DEFAULT '',   -- routes like a DID when given
    pages            int NOT NULL,
    complete         boolean NOT NULL,           -- false: the call failed after some pages
    result_text      text NOT NULL DEFAULT ''    -- the T.30 result or the conversion note, for the ticket page
);

-- One row per page: a single-page TIFF as received (T.4 1D/2D or T.6, 1 bit),
-- or rendered at 204x196 dpi from a mailed PDF.
CREATE TABLE fax_page (
    inbound_item_id  bigint NOT NULL REFERENCES inbound_item (id),
    page_no          int NOT NULL CHECK (page_no >= 1),
    tiff             bytea NOT NULL,
    width_px         int NOT NULL,
    height_px        int NOT NULL,
    x_dpi            int NOT NULL,               -- 204 (or 200, 300, 400, ...)
    y_dpi            int NOT NULL,               -- 98 standard, 196 fine, ...
    compression      text NOT NULL DEFAULT '',   -- 't4_1d', 't4_2d', 't6', ...
    source_name      text NOT NULL DEFAULT '',   -- fax-to-mail: the attachment it came from
    PRIMARY KEY (inbound_item_id, page_no)
);

GRANT SELECT (id, source, source_key, raw_sha256), INSERT ON inbound_item TO madoguchi_fax;
GRANT USAGE ON SEQUENCE inbound_item_id_seq, fax_call_id_seq TO madoguchi_fax;
GRANT SELECT, INSERT ON fax_call, fax_item, fax_page TO madoguchi_fax;
GRANT UPDATE (inbound_item_id) ON fax_call TO madoguchi_fax;
GRANT INSERT ON fax_item, fax_page TO madoguchi_ingest;
GRANT SELECT ON fax_call, fax_item, fax_page TO madoguchi_ticketd;
