-- 010: the queue's filters by tag, queue and category (ticketd/tickets.c).
--
-- A view walks its own index in its sort order and drops the rows a filter
-- refuses; that is quick while the filter keeps many rows, and a walk of
-- the whole view when it keeps almost none (a hot-topic tag such as 選挙
-- on a few hundred of 70 000 tickets: 36 ms, and up to 80 ms combined
-- with a channel).  With these indexes the planner (ticketd plans each
-- list request for its own values) starts from the filter instead.
CREATE INDEX ticket_tags ON ticket USING gin (tags);
CREATE INDEX ticket_queue ON ticket (queue);
CREATE INDEX ticket_category ON ticket (category) WHERE category IS NOT NULL;
