# ingest/fax/: ingest-fax, the daemon that answers fax calls over SIP
# (G.711 or T.38) and stores them as fax_call / inbound_item / fax_item /
# fax_page rows.  sipua.c and call.c form a small library that the test
# tool tests/tools/faxpeer links too: the caller is built from the same UA.
noinst_LIBRARIES += ingest/fax/libfaxline.a
ingest_fax_libfaxline_a_SOURCES = \
	ingest/fax/sipua.c ingest/fax/sipua.h \
	ingest/fax/call.c ingest/fax/call.h
ingest_fax_libfaxline_a_CFLAGS = $(AM_CFLAGS) $(RE_CFLAGS) $(SPANDSP_CFLAGS)
FAXLINE_LIBS = ingest/fax/libfaxline.a $(MDG_FAX_LIBS) $(MDG_LIBS) $(RE_LIBS) -lpthread

bin_PROGRAMS += ingest/fax/ingest-fax
ingest_fax_ingest_fax_SOURCES = \
	ingest/fax/main.c \
	ingest/fax/line.c ingest/fax/line.h \
	ingest/fax/settings.c ingest/fax/settings.h \
	ingest/fax/store.c ingest/fax/store.h \
	$(OUTFAX_SOURCES)
ingest_fax_ingest_fax_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS)
ingest_fax_ingest_fax_LDADD = $(FAXLINE_LIBS)

# the test caller and answerer (tests/integration/test_fax_line.py)
check_PROGRAMS += tests/tools/faxpeer
tests_tools_faxpeer_SOURCES = tests/tools/faxpeer.c
tests_tools_faxpeer_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/ingest/fax
tests_tools_faxpeer_LDADD = $(FAXLINE_LIBS)
# a fax_page TIFF as PBM, for the pixel comparisons of the same test
check_PROGRAMS += tests/tools/faxpage2pbm
tests_tools_faxpage2pbm_SOURCES = tests/tools/faxpage2pbm.c
tests_tools_faxpage2pbm_LDADD = $(MDG_FAX_LIBS) $(MDG_LIBS)

check_PROGRAMS += ingest/fax/test_fax
ingest_fax_test_fax_SOURCES = ingest/fax/test_fax.c ingest/fax/store.c ingest/fax/store.h
ingest_fax_test_fax_LDADD = $(FAXLINE_LIBS)
TESTS += ingest/fax/test_fax
