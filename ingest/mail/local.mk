# ingest/mail/: ingest-mail, which stores incoming mail (Maildir or IMAP) as
# inbound_item rows.  Everything but main.c goes into a small library that
# the daemon and the unit tests link.
noinst_LIBRARIES += ingest/mail/libingestmail.a
ingest_mail_libingestmail_a_SOURCES = \
	ingest/mail/ingest.c ingest/mail/ingest.h \
	ingest/mail/settings.c ingest/mail/settings.h \
	ingest/mail/store.c ingest/mail/store.h \
	ingest/mail/room.c ingest/mail/room.h \
	ingest/mail/mdir.c ingest/mail/mdir.h \
	ingest/mail/pull.c ingest/mail/pull.h \
	ingest/mail/imap.c ingest/mail/imap.h \
	ingest/mail/uidset.c ingest/mail/uidset.h \
	ingest/mail/faxmail.c ingest/mail/faxmail.h
ingest_mail_libingestmail_a_CFLAGS = $(AM_CFLAGS) $(ETPAN_CFLAGS) $(CRYPTO_CFLAGS)
# fax-to-mail (faxmail.c) splits TIFFs and renders PDFs: lib/libmdgfax.a
INGEST_MAIL_LIBS = ingest/mail/libingestmail.a $(MDG_FAX_LIBS) $(MDG_LIBS) $(ETPAN_LIBS) $(CRYPTO_LIBS)

bin_PROGRAMS += ingest/mail/ingest-mail
ingest_mail_ingest_mail_SOURCES = ingest/mail/main.c
ingest_mail_ingest_mail_LDADD = $(INGEST_MAIL_LIBS)

# (tls.c, the certificate decision, is in lib/ since escalationd shares it)
check_PROGRAMS += ingest/mail/test_settings ingest/mail/test_uidset ingest/mail/test_mdir
ingest_mail_test_settings_SOURCES = ingest/mail/test_settings.c
ingest_mail_test_settings_LDADD = $(INGEST_MAIL_LIBS)
ingest_mail_test_uidset_SOURCES = ingest/mail/test_uidset.c
ingest_mail_test_uidset_LDADD = $(INGEST_MAIL_LIBS)
ingest_mail_test_mdir_SOURCES = ingest/mail/test_mdir.c
ingest_mail_test_mdir_LDADD = $(INGEST_MAIL_LIBS)
TESTS += ingest/mail/test_settings ingest/mail/test_uidset ingest/mail/test_mdir
# fax-to-mail (faxmail.c): senders, DID, conversion
check_PROGRAMS += ingest/mail/test_faxmail
ingest_mail_test_faxmail_SOURCES = ingest/mail/test_faxmail.c
ingest_mail_test_faxmail_LDADD = $(INGEST_MAIL_LIBS)
TESTS += ingest/mail/test_faxmail
