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
	lib/testlib.h
lib_libmadoguchi_a_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS) $(ARGON2_CFLAGS) $(CRYPTO_CFLAGS)
MDG_LIBS = lib/libmadoguchi.a $(PQ_LIBS) $(ARGON2_LIBS) $(CRYPTO_LIBS)

check_PROGRAMS += lib/test_lib
lib_test_lib_SOURCES = lib/test_lib.c
lib_test_lib_LDADD = $(MDG_LIBS)
TESTS += lib/test_lib
