-- 013: renaming a category (issue 5).
--
-- ticket.category, case_record.category and route_rule.set_category keep a
-- category's path as text (012), so a rename rewrites every path that is
-- the old one or lies below it, in the same transaction as the rename
-- (ticketd/category.c): the reports count the tickets of before and after
-- the rename under one name.  Each rename leaves one row here, the audit of
-- who changed which path into which; the tickets' own timelines are not
-- touched (nobody worked them).  Only ticketd writes it; rows are never
-- changed.
CREATE TABLE category_rename (
    id           bigserial PRIMARY KEY,
    category_id  int NOT NULL REFERENCES category (id),
    old_path     text NOT NULL,
    new_path     text NOT NULL,
    renamed_by   text NOT NULL,
    renamed_at   timestamptz NOT NULL
);
CREATE INDEX category_rename_category ON category_rename (category_id, id);

GRANT SELECT, INSERT ON category_rename TO madoguchi_ticketd;
GRANT USAGE ON SEQUENCE category_rename_id_seq TO madoguchi_ticketd;
