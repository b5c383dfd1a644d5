# escalation/: escalationd, the outgoing mail sender.  Everything but
# main.c goes into a small library that the daemon and the unit tests link.
noinst_LIBRARIES += escalation/libescalation.a
escalation_libescalation_a_SOURCES = \
	escalation/loop.c escalation/loop.h \
	escalation/outbox.c escalation/outbox.h \
	escalation/settings.c escalation/settings.h \
	escalation/retry.c escalation/retry.h \
	escalation/remind.c escalation/remind.h \
	escalation/smtp.c escalation/smtp.h
escalation_libescalation_a_CFLAGS = $(AM_CFLAGS) $(ETPAN_CFLAGS)
ESCALATION_LIBS = escalation/libescalation.a $(MDG_LIBS) $(ETPAN_LIBS)

bin_PROGRAMS += escalation/escalationd
escalation_escalationd_SOURCES = escalation/main.c
escalation_escalationd_LDADD = $(ESCALATION_LIBS)

# backoff schedule and reply classification (retry.c), address checks (smtp.c)
check_PROGRAMS += escalation/test_retry
escalation_test_retry_SOURCES = escalation/test_retry.c
escalation_test_retry_LDADD = $(ESCALATION_LIBS)
TESTS += escalation/test_retry

# the reminders' schedule on business calendars (remind.c)
check_PROGRAMS += escalation/test_remind
escalation_test_remind_SOURCES = escalation/test_remind.c
escalation_test_remind_LDADD = $(ESCALATION_LIBS)
TESTS += escalation/test_remind
