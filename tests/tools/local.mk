# tests/tools/: small programs the integration tests drive.  Built with
# make check (so the ASan build compiles them too); a test script builds
# the one it needs in its build directory with make <target>.
check_PROGRAMS += tests/tools/mailout-cli
tests_tools_mailout_cli_SOURCES = tests/tools/mailout-cli.c
tests_tools_mailout_cli_LDADD = $(MDG_LIBS)
# faxgen: multi-page fax TIFFs (libtiff) and PDFs (cairo) for the fax tests
check_PROGRAMS += tests/tools/faxgen
tests_tools_faxgen_SOURCES = tests/tools/faxgen.c
tests_tools_faxgen_CFLAGS = $(AM_CFLAGS) $(TIFF_CFLAGS) $(POPPLER_CFLAGS)
tests_tools_faxgen_LDADD = $(TIFF_LIBS) $(POPPLER_LIBS)
# faxpage: an A4 page of Japanese text (lib/faxrender), optionally through the
# fax line's loopback (lib/faxdsp), for the OCR tests and tests/bench/ocr
check_PROGRAMS += tests/tools/faxpage
tests_tools_faxpage_SOURCES = tests/tools/faxpage.c
tests_tools_faxpage_LDADD = $(MDG_FAX_LIBS) $(MDG_LIBS)
