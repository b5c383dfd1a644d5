-- 026: Japanese OCR of fax pages (issue 8).  ingest-ocr claims pending pages
-- (a lease committed at once, so a worker that dies or overruns its time
-- limit loses only its lease; each claim counts an attempt and a page that
-- used up ocr.max_attempts is 'failed' or 'timeout', never retried
-- forever), reads them with Tesseract and stores the text, its mean
-- confidence, how the page was turned and read, and the numbers found.
-- When the last page of an item is read, fax_item.ocr_done_at is set in the
-- same transaction; ticketd then indexes the joined text for search
-- (search_doc kind 'ocr', source_id = the fax message) and marks the item
-- ocr_indexed.  All of it is correspondence: the text may hold names and
-- numbers; candidates become contact details only when an operator accepts
-- one.

ALTER TABLE fax_page
    ADD COLUMN ocr_state       text NOT NULL DEFAULT 'pending'
                               CHECK (ocr_state IN ('pending', 'done', 'blank', 'failed', 'timeout')),
    ADD COLUMN ocr_attempts    int NOT NULL DEFAULT 0,
    ADD COLUMN ocr_lease_until timestamptz,
    ADD COLUMN ocr_text        text,
    ADD COLUMN ocr_confidence  int,                 -- Tesseract's mean word confidence, 0-100
    ADD COLUMN ocr_rotation    int,                 -- degrees the page was turned before reading
    ADD COLUMN ocr_vertical    boolean,             -- read as vertical text (tategaki, jpn_vert)
    ADD COLUMN ocr_ms          int,                 -- time spent on the page
    ADD COLUMN ocr_done_at     timestamptz,
    ADD COLUMN ocr_error       text;
CREATE INDEX fax_page_ocr_todo ON fax_page (inbound_item_id, page_no) WHERE ocr_state = 'pending';

ALTER TABLE fax_item
    ADD COLUMN ocr_done_at  timestamptz,            -- every page read (or given up)
    ADD COLUMN ocr_indexed  boolean NOT NULL DEFAULT false;
CREATE INDEX fax_item_ocr_unindexed ON fax_item (inbound_item_id)
    WHERE ocr_done_at IS NOT NULL AND NOT ocr_indexed;

-- Numbers and addresses found on a page: offered to the operator with
-- their place on the page; nothing goes into the contact store until one is
-- accepted.
CREATE TABLE fax_candidate (
    id               bigserial PRIMARY KEY,
    inbound_item_id  bigint NOT NULL,
    page_no          int NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('phone', 'fax', 'postal', 'mail')),
    value            text NOT NULL,                 -- normalised: digits with hyphens, 〒NNN-NNNN, an address
    first_pass       text NOT NULL DEFAULT '',      -- what the first pass read there
    x int NOT NULL, y int NOT NULL, w int NOT NULL, h int NOT NULL,   -- on the page as stored
    accepted_at      timestamptz,
    accepted_by      text,
    FOREIGN KEY (inbound_item_id, page_no) REFERENCES fax_page (inbound_item_id, page_no)
);
CREATE INDEX fax_candidate_page ON fax_candidate (inbound_item_id, page_no, id);

-- wakes ingest-ocr when pages arrive (a wake-up only: it also polls)
CREATE FUNCTION fax_page_ocr_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ocr', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER fax_page_ocr_notify AFTER INSERT ON fax_page
    FOR EACH STATEMENT EXECUTE FUNCTION fax_page_ocr_notify();

GRANT SELECT (inbound_item_id, page_no, tiff, x_dpi, y_dpi, width_px, height_px, ocr_state,
              ocr_attempts, ocr_lease_until) ON fax_page TO madoguchi_ocr;
GRANT UPDATE (ocr_state, ocr_attempts, ocr_lease_until, ocr_text, ocr_confidence, ocr_rotation,
              ocr_vertical, ocr_ms, ocr_done_at, ocr_error) ON fax_page TO madoguchi_ocr;
GRANT SELECT (inbound_item_id, ocr_done_at), UPDATE (ocr_done_at) ON fax_item TO madoguchi_ocr;
GRANT SELECT, INSERT, DELETE ON fax_candidate TO madoguchi_ocr;
GRANT USAGE ON SEQUENCE fax_candidate_id_seq TO madoguchi_ocr;
GRANT SELECT (id, ticket_id, inbound_item_id) ON message TO madoguchi_ocr;
GRANT SELECT, UPDATE (accepted_at, accepted_by) ON fax_candidate TO madoguchi_ticketd;
GRANT SELECT (ocr_done_at, ocr_indexed), UPDATE (ocr_indexed) ON fax_item TO madoguchi_ticketd;  -- 022 grants columns
GRANT UPDATE (ocr_state, ocr_attempts, ocr_lease_until) ON fax_page TO madoguchi_ticketd;  -- 読み直し
