# ingest/ocr: ingest-ocr, Japanese OCR of fax pages (issue 8).  Tesseract and
# Leptonica only through tess.c (pkg-config tesseract does not link lept:
# DEPENDENCY-NOTES 16).
bin_PROGRAMS += ingest/ocr/madoguchi-ocr-page
OCR_COMMON = ingest/ocr/tess.c ingest/ocr/tess.h ingest/ocr/numbers.c ingest/ocr/numbers.h
ingest_ocr_madoguchi_ocr_page_SOURCES = ingest/ocr/ocrpage.c $(OCR_COMMON)
ingest_ocr_madoguchi_ocr_page_CFLAGS = $(AM_CFLAGS) $(TESS_CFLAGS) $(JANSSON_CFLAGS)
ingest_ocr_madoguchi_ocr_page_LDADD = $(MDG_LIBS) $(TESS_LIBS) $(JANSSON_LIBS)

check_PROGRAMS += ingest/ocr/test_numbers
ingest_ocr_test_numbers_SOURCES = ingest/ocr/test_numbers.c ingest/ocr/numbers.c ingest/ocr/numbers.h
ingest_ocr_test_numbers_LDADD = $(MDG_LIBS)
TESTS += ingest/ocr/test_numbers

bin_PROGRAMS += ingest/ocr/ingest-ocr
ingest_ocr_ingest_ocr_SOURCES = ingest/ocr/main.c ingest/ocr/worker.c ingest/ocr/worker.h $(OCR_COMMON)
ingest_ocr_ingest_ocr_CFLAGS = $(AM_CFLAGS) $(TESS_CFLAGS) $(PQ_CFLAGS)
ingest_ocr_ingest_ocr_LDADD = $(MDG_LIBS) $(TESS_LIBS)
