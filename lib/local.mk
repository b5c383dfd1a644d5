# lib/: code shared by all programs; knows no daemon.
noinst_LIBRARIES += lib/libmadoguchi.a
lib_libmadoguchi_a_SOURCES = \
	lib/log.c lib/log.h \
	lib/clock.c lib/clock.h \
	lib/buf.c lib/buf.h \
	lib/pool.c lib/pool.h \
	lib/config.c lib/config.h \
	lib/daemon.c lib/daemon.h \
	lib/db.c lib/db.h \
	lib/pwhash.c lib/pwhash.h \
	lib/utf8.c lib/utf8.h \
	lib/charset.c lib/charset.h lib/searchtext.c lib/searchtext.h \
	lib/mime.c lib/mime.h lib/mime_header.c lib/mime_header.h lib/mime_html.c lib/mime_html.h \
	lib/htmlsan.c lib/htmlsan.h \
	lib/mime_dsn.c lib/mime_dsn.h lib/forward.c lib/forward.h \
	lib/testlib.h
lib_libmadoguchi_a_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS) $(ARGON2_CFLAGS) $(CRYPTO_CFLAGS) $(ETPAN_CFLAGS) $(ICU_CFLAGS)
# The fax modules link spandsp, libtiff, poppler and pango: only the programs
# that handle fax pages take this second library.
noinst_LIBRARIES += lib/libmdgfax.a
lib_libmdgfax_a_SOURCES = lib/faxdsp.h lib/faxtiff.h lib/udptl.h
lib_libmdgfax_a_CFLAGS = $(AM_CFLAGS) $(SPANDSP_CFLAGS) $(TIFF_CFLAGS) $(POPPLER_CFLAGS) $(PANGO_CFLAGS)
MDG_FAX_LIBS = lib/libmdgfax.a $(SPANDSP_LIBS) $(TIFF_LIBS) $(POPPLER_LIBS) $(PANGO_LIBS) -lm
MDG_LIBS = lib/libmadoguchi.a $(PQ_LIBS) $(ARGON2_LIBS) $(CRYPTO_LIBS) $(ETPAN_LIBS) $(ICU_LIBS)

check_PROGRAMS += lib/test_lib
lib_test_lib_SOURCES = lib/test_lib.c
lib_test_lib_LDADD = $(MDG_LIBS)
TESTS += lib/test_lib

# mime and charset: unit tests
check_PROGRAMS += lib/test_charset lib/test_mime
lib_test_charset_SOURCES = lib/test_charset.c
lib_test_charset_LDADD = $(MDG_LIBS)
lib_test_mime_SOURCES = lib/test_mime.c
lib_test_mime_LDADD = $(MDG_LIBS)
TESTS += lib/test_charset lib/test_mime
# htmlsan: unit tests (attack table, limits, linear time)
check_PROGRAMS += lib/test_htmlsan
lib_test_htmlsan_SOURCES = lib/test_htmlsan.c
lib_test_htmlsan_LDADD = $(MDG_LIBS)
TESTS += lib/test_htmlsan
# forwarded mail (lib/forward.c) over the fixtures in lib/testdata/forward/
check_PROGRAMS += lib/test_forward
lib_test_forward_SOURCES = lib/test_forward.c
lib_test_forward_LDADD = $(MDG_LIBS)
TESTS += lib/test_forward
EXTRA_DIST += lib/testdata/forward
# the shared mail corpus (../shared/corpus/mail) against mime_parse; skips without it
check_PROGRAMS += lib/test_mime_corpus
lib_test_mime_corpus_SOURCES = lib/test_mime_corpus.c
lib_test_mime_corpus_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
lib_test_mime_corpus_LDADD = $(MDG_LIBS) $(JANSSON_LIBS)
TESTS += lib/test_mime_corpus

# the MIME parse benchmark: built on demand (make tests/bench/mime_bench), never run by make check
EXTRA_PROGRAMS += tests/bench/mime_bench
tests_bench_mime_bench_SOURCES = tests/bench/mime_bench.c
tests_bench_mime_bench_LDADD = $(MDG_LIBS)

# mailout: outgoing mail as RFC 5322 / MIME bytes (Japanese headers, ISO-2022-JP, attachments)
lib_libmadoguchi_a_SOURCES += lib/mailout.c lib/mailout.h lib/mailout_header.c lib/mailout_header.h
check_PROGRAMS += lib/test_mailout
lib_test_mailout_SOURCES = lib/test_mailout.c
lib_test_mailout_LDADD = $(MDG_LIBS)
TESTS += lib/test_mailout

# tls: the certificate decision of the mail daemons' TLS clients (pin, chain, host name)
lib_libmadoguchi_a_SOURCES += lib/tls.c lib/tls.h
check_PROGRAMS += lib/test_tls
lib_test_tls_SOURCES = lib/test_tls.c
lib_test_tls_LDADD = $(MDG_LIBS)
TESTS += lib/test_tls
# searchtext: the grams of the Japanese search
check_PROGRAMS += lib/test_searchtext
lib_test_searchtext_SOURCES = lib/test_searchtext.c
lib_test_searchtext_LDADD = $(MDG_LIBS)
TESTS += lib/test_searchtext
# piidetect: contact details (phone, mail, postal code, address) in case-history text
lib_libmadoguchi_a_SOURCES += lib/piidetect.c lib/piidetect.h
check_PROGRAMS += lib/test_piidetect
lib_test_piidetect_SOURCES = lib/test_piidetect.c
lib_test_piidetect_LDADD = $(MDG_LIBS)
TESTS += lib/test_piidetect
# bizcal: business calendars and SLA due times (Tokyo); bizcal_db fills one from sql/016
lib_libmadoguchi_a_SOURCES += lib/bizcal.c lib/bizcal.h lib/bizcal_db.c lib/bizcal_db.h
check_PROGRAMS += lib/test_bizcal
lib_test_bizcal_SOURCES = lib/test_bizcal.c
lib_test_bizcal_LDADD = $(MDG_LIBS)
TESTS += lib/test_bizcal
# the due-time benchmark: built on demand (make tests/bench/bizcal_bench), never run by make check
EXTRA_PROGRAMS += tests/bench/bizcal_bench
tests_bench_bizcal_bench_SOURCES = tests/bench/bizcal_bench.c
tests_bench_bizcal_bench_LDADD = $(MDG_LIBS)
# faxtiff: the one adapter over libtiff (split pages as received, decode, encode G4)
lib_libmdgfax_a_SOURCES += lib/faxtiff.c
check_PROGRAMS += lib/test_faxtiff
lib_test_faxtiff_SOURCES = lib/test_faxtiff.c
lib_test_faxtiff_CFLAGS = $(AM_CFLAGS) $(TIFF_CFLAGS)
lib_test_faxtiff_LDADD = $(MDG_FAX_LIBS) $(MDG_LIBS)
TESTS += lib/test_faxtiff
# faxdsp: the spandsp adapter (audio and T.38 fax sessions, G.711, line model); udptl: T.38 UDPTL framing
lib_libmdgfax_a_SOURCES += lib/faxdsp.c
check_PROGRAMS += lib/test_faxdsp
lib_test_faxdsp_SOURCES = lib/test_faxdsp.c
lib_test_faxdsp_CFLAGS = $(AM_CFLAGS) $(SPANDSP_CFLAGS) $(TIFF_CFLAGS)
lib_test_faxdsp_LDADD = $(MDG_FAX_LIBS) $(MDG_LIBS) -ltiff
TESTS += lib/test_faxdsp
lib_libmdgfax_a_SOURCES += lib/udptl.c
check_PROGRAMS += lib/test_udptl
lib_test_udptl_SOURCES = lib/test_udptl.c
lib_test_udptl_LDADD = $(MDG_FAX_LIBS) $(MDG_LIBS)
TESTS += lib/test_udptl
