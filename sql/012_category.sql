-- 012: categories as a tree down to 係 (ward > department > section), issue 5.
--
-- ticket.category stays text and holds the path ("区民課 > 住民記録係"):
-- the routing rules (route_rule.set_category) and the tickets already
-- filed keep working, and the queue's category filter matches a path and
-- everything below it (ticketd/tickets.c).  A name may hold no " > ".
CREATE TABLE category (
    id        serial PRIMARY KEY,
    parent_id int NULL REFERENCES category (id),
    name      text NOT NULL CHECK (name <> '' AND length(name) <= 60
                                   AND strpos(name, ' > ') = 0),
    position  int NOT NULL DEFAULT 0,
    enabled   bool NOT NULL DEFAULT true,
    UNIQUE (parent_id, name)
);
-- UNIQUE does not compare NULLs: the top level gets its own index
CREATE UNIQUE INDEX category_top_name ON category (name) WHERE parent_id IS NULL;

-- every category with its path, its depth and whether it and all its
-- ancestors are enabled (a disabled department hides its sections)
CREATE VIEW category_path AS
WITH RECURSIVE p (id, parent_id, name, position, enabled, path, depth, usable, sort) AS (
    SELECT id, parent_id, name, position, enabled, name, 1, enabled,
           ARRAY[position, id]
      FROM category WHERE parent_id IS NULL
    UNION ALL
    SELECT c.id, c.parent_id, c.name, c.position, c.enabled, p.path || ' > ' || c.name,
           p.depth + 1, p.usable AND c.enabled, p.sort || ARRAY[c.position, c.id]
      FROM category c JOIN p ON c.parent_id = p.id
     WHERE p.depth < 8
)
SELECT id, parent_id, name, position, enabled, path, depth, usable, sort FROM p;

INSERT INTO category (parent_id, name, position) VALUES
    (NULL, '区民課', 1), (NULL, '保険年金課', 2), (NULL, '環境課', 3);
INSERT INTO category (parent_id, name, position)
SELECT p.id, v.name, v.position
  FROM (VALUES ('区民課', '住民記録係', 1), ('区民課', '戸籍係', 2),
               ('保険年金課', '国保係', 1), ('保険年金課', '年金係', 2),
               ('環境課', '清掃係', 1)) AS v (parent, name, position)
  JOIN category p ON p.name = v.parent AND p.parent_id IS NULL;

GRANT SELECT, INSERT, UPDATE ON category TO madoguchi_ticketd;
GRANT USAGE ON SEQUENCE category_id_seq TO madoguchi_ticketd;
GRANT SELECT ON category_path TO madoguchi_ticketd;
