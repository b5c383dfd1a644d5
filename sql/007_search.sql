-- 007: Japanese search over the correspondence (issue 5).
--
-- One row per searchable text: a message (subject and body), later an
-- internal note or a fax page's OCR text.  folded is the text in search
-- form (NFKC, case folded, white space squeezed: lib/charset.h
-- charset_fold), grams every distinct character and pair of neighbouring
-- characters of it (lib/searchtext.h), so two-character words such as
-- 住民 or 保険 are found through the GIN index, and full-width and
-- half-width forms find each other.  ticketd writes the rows in the
-- background after intake (never inside it) and queries them.
--
-- This is correspondence: it holds what citizens wrote, contact details
-- included, and is purged with the messages it was made from.

CREATE TABLE search_doc (
    kind       text NOT NULL CHECK (kind IN ('message', 'note', 'ocr')),
    source_id  bigint NOT NULL,
    ticket_id  bigint NOT NULL REFERENCES ticket (id),
    folded     text NOT NULL,
    grams      text[] NOT NULL,
    PRIMARY KEY (kind, source_id)
);
CREATE INDEX search_doc_grams ON search_doc USING gin (grams);
-- newest first: a search for a common word walks this backwards
CREATE INDEX search_doc_ticket ON search_doc (ticket_id, source_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON search_doc TO madoguchi_ticketd;
