# admin/: madoguchi-admin, the command line for migrations, users, dead items.
bin_PROGRAMS += admin/madoguchi-admin
admin_madoguchi_admin_SOURCES = admin/main.c admin/admin.c admin/admin.h admin/migrate.c admin/purge.c
admin_madoguchi_admin_LDADD = $(MDG_LIBS)
# calendar commands: holidays-load (the Cabinet Office CSV), sla-due (lib/bizcal over sql/016)
admin_madoguchi_admin_SOURCES += admin/calendar.c
