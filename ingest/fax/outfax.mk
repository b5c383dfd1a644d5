# ingest/fax: replies by fax, the queue side (outfax.c, outfax_spool.c).  The
# ingest-fax program (ingest/fax/local.mk, the SIP side) adds these two
# sources and $(MDG_FAX_LIBS) to its own; the unit test needs PostgreSQL and
# is run by tests/integration/test_outfax.py (skipped, 77, by make check).
OUTFAX_SOURCES = ingest/fax/outfax.c ingest/fax/outfax.h ingest/fax/outfax_spool.c
check_PROGRAMS += ingest/fax/test_outfax
ingest_fax_test_outfax_SOURCES = ingest/fax/test_outfax.c $(OUTFAX_SOURCES)
ingest_fax_test_outfax_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS)
ingest_fax_test_outfax_LDADD = $(MDG_FAX_LIBS) $(MDG_LIBS)
TESTS += ingest/fax/test_outfax
