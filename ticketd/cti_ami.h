/* cti_ami: ticketd's Asterisk Manager Interface client (issue 9).
 *
 * One TCP connection to the PBX's AMI (ticketd.cti_ami_host; empty: off),
 * driven by ticketd's event loop without ever blocking: connect, read the
 * banner, Login, then read events.  The call events of a queue call become
 * the same struct cti_event the webhooks make (cti.h), call id = Linkedid:
 *
 *   Newchannel (the caller's channel)     newCall (CallerIDNum, Exten = DNIS)
 *   VarSet of ticketd.cti_ami_ivr_var     ivr
 *   QueueCallerJoin                       queue
 *   QueueCallerAbandon                    abandon
 *   AgentConnect, BridgeEnter (an agent)  answer (the agent's extension)
 *   Hold, Unhold                          hold, unhold
 *   BlindTransfer, AttendedTransfer       transfer (Extension / SecondTransfererExten)
 *   Hangup (the caller's channel)         hangup (Cause-txt)
 *
 * After-call work: on NOTIFY cti_acw (cti.c on answer, sql/027's trigger
 * when the case record is saved) the operator's queue member is paused or
 * unpaused with QueuePause.  After every log-in the pauses are set again
 * from the calls in PostgreSQL, so one lost while disconnected is not lost.
 * A lost connection is retried with backoff (1 s doubling to 30 s). */
#ifndef MDG_CTI_AMI_H
#define MDG_CTI_AMI_H

#include "config.h"

struct cti_ami;
struct db;

extern const struct config_key cti_ami_config_keys[];

struct cti_ami *cti_ami_new(struct db *db, const struct config *cfg);
void cti_ami_free(struct cti_ami *a);
/* a reloaded config: reconnect when the address or log-in changed */
void cti_ami_configure(struct cti_ami *a, const struct config *cfg);
/* the socket to poll (-1: none) and the events to poll it for */
int cti_ami_fd(const struct cti_ami *a);
short cti_ami_poll_events(const struct cti_ami *a);
/* how long the loop may sleep before cti_ami_run() is due (-1: no limit) */
int cti_ami_timeout_ms(const struct cti_ami *a);
/* connect when due, write what is queued, read and apply events; never blocks */
void cti_ami_run(struct cti_ami *a);
/* NOTIFY cti_acw: {"pbx","interface","paused"} */
void cti_ami_acw(struct cti_ami *a, const char *payload);

#endif
