# ticketd/: the ticket daemon.  Everything but main.c goes into a library
# so that the unit tests link the same objects.

noinst_LIBRARIES += ticketd/libticketd.a
ticketd_libticketd_a_SOURCES = \
	ticketd/loop.c ticketd/loop.h \
	ticketd/http.c ticketd/http.h \
	ticketd/api.c ticketd/api.h \
	ticketd/auth.c ticketd/auth.h \
	ticketd/tickets.c ticketd/tickets.h \
	ticketd/messages.c ticketd/messages.h \
	ticketd/sse.c ticketd/sse.h \
	ticketd/webroot.c ticketd/webroot.h \
	ticketd/intake.c ticketd/intake.h ticketd/intake_fax.c ticketd/intake_fax.h \
	ticketd/search.c ticketd/search.h \
	ticketd/route.c ticketd/route.h \
	ticketd/reply.c ticketd/reply.h ticketd/reply_int.h \
	ticketd/reply_render.c ticketd/reply_draft.c ticketd/reply_draft.h \
	ticketd/templates.c ticketd/templates.h \
	ticketd/admin_api.c ticketd/admin_api.h \
	ticketd/workflow.c ticketd/workflow.h
ticketd_libticketd_a_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(JANSSON_CFLAGS) $(CRYPTO_CFLAGS) $(ICU_CFLAGS)
TICKETD_LIBS = ticketd/libticketd.a $(MDG_LIBS) $(MHD_LIBS) $(JANSSON_LIBS)

bin_PROGRAMS += ticketd/ticketd
ticketd_ticketd_SOURCES = ticketd/main.c
ticketd_ticketd_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
ticketd_ticketd_LDADD = $(TICKETD_LIBS)

check_PROGRAMS += ticketd/test_messages ticketd/test_webroot ticketd/test_sse
ticketd_test_messages_SOURCES = ticketd/test_messages.c
ticketd_test_messages_LDADD = $(TICKETD_LIBS)
ticketd_test_webroot_SOURCES = ticketd/test_webroot.c
ticketd_test_webroot_LDADD = $(TICKETD_LIBS)
ticketd_test_sse_SOURCES = ticketd/test_sse.c
ticketd_test_sse_LDADD = $(TICKETD_LIBS)
TESTS += ticketd/test_messages ticketd/test_webroot ticketd/test_sse

# routing rules (route.c): matching, NFKC folding, patterns
check_PROGRAMS += ticketd/test_route
ticketd_test_route_SOURCES = ticketd/test_route.c
ticketd_test_route_LDADD = $(TICKETD_LIBS)
TESTS += ticketd/test_route

# replies (reply_draft.c: addresses, confirmations, the Bcc rule) and templates.c
check_PROGRAMS += ticketd/test_reply
ticketd_test_reply_SOURCES = ticketd/test_reply.c
ticketd_test_reply_LDADD = $(TICKETD_LIBS)
TESTS += ticketd/test_reply

# case history (応対履歴) and the contact store
ticketd_libticketd_a_SOURCES += ticketd/casebook.c ticketd/casebook.h \
	ticketd/contacts.c ticketd/contacts.h \
	ticketd/faxocr.c ticketd/faxocr.h

# approval before sending, the dead-mail list, queue settings (approval.h)
ticketd_libticketd_a_SOURCES += ticketd/approval.c ticketd/approval.h

# merging tickets and splitting an item off (merge.h)
ticketd_libticketd_a_SOURCES += ticketd/merge.c ticketd/merge.h

# categories as a tree, classifying tickets (category.h)
ticketd_libticketd_a_SOURCES += ticketd/category.c ticketd/category.h
# department escalation (issue 6)
ticketd_libticketd_a_SOURCES += ticketd/department.c ticketd/department.h \
	ticketd/escalate.c ticketd/escalate.h
# the SLA: due times, warnings, the board (issue 6)
ticketd_libticketd_a_SOURCES += ticketd/sla.c ticketd/sla.h

# the known queues for the admins' approval page (admin_queues.h)
ticketd_libticketd_a_SOURCES += ticketd/admin_queues.c ticketd/admin_queues.h

# files uploaded in the reply composer (upload.h)
ticketd_libticketd_a_SOURCES += ticketd/upload.c ticketd/upload.h
check_PROGRAMS += ticketd/test_upload
ticketd_test_upload_SOURCES = ticketd/test_upload.c
ticketd_test_upload_LDADD = $(TICKETD_LIBS)
TESTS += ticketd/test_upload
# the admin pages of business calendars and SLA policies (admin_calendar.h)
ticketd_libticketd_a_SOURCES += ticketd/admin_calendar.c ticketd/admin_calendar.h

# fax items (issue 7): the intake path and the page viewer's API; fax
# pages are decoded by lib/faxtiff and sent as PNG by lib/pngout
ticketd_libticketd_a_SOURCES += ticketd/faxview.c ticketd/faxview.h
TICKETD_LIBS += $(MDG_FAX_LIBS)
# replies by fax (faxreply.h): lib/faxrender pages, outbound_fax (sql/023); unit test of the number rules
ticketd_libticketd_a_SOURCES += ticketd/faxreply.c ticketd/faxreply.h
check_PROGRAMS += ticketd/test_faxreply
ticketd_test_faxreply_SOURCES = ticketd/test_faxreply.c
ticketd_test_faxreply_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
ticketd_test_faxreply_LDADD = $(TICKETD_LIBS)
TESTS += ticketd/test_faxreply

# calls through a CTI hook (issue 9): webhooks, the call API, the AMI client
ticketd_libticketd_a_SOURCES += ticketd/cti.c ticketd/cti.h ticketd/cti_hook.c \
	ticketd/cti_api.c ticketd/cti_api.h ticketd/cti_ami.c ticketd/cti_ami.h
check_PROGRAMS += ticketd/test_cti
ticketd_test_cti_SOURCES = ticketd/test_cti.c
ticketd_test_cti_LDADD = $(TICKETD_LIBS)
TESTS += ticketd/test_cti
