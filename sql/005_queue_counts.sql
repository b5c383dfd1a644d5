-- 005: the counts above the queue (ticketd/tickets.c).
--
-- Every view's count comes from one "GROUP BY status, assignee" over the
-- whole ticket table, run again after each NOTIFY ticket_change.  A table
-- scan with hashing takes 50 to 80 ms at 100 000 tickets; an index-only
-- scan of this index, read in its order, about 10 ms.
CREATE INDEX ticket_status_assignee ON ticket (status, assignee);
