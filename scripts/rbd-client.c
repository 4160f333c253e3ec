/*
 * rbd-client: libiscsi test client for scripts/rbd-integration.sh.
 *
 * Checks what an RBD-backed LUN must get right when several target daemons
 * share one Ceph image, when the image is resized, and when Ceph stalls.
 *
 *   rbd-client caw-increment URL LBA COUNT   COMPARE AND WRITE a counter COUNT times
 *   rbd-client read-counter URL LBA          print the counter at LBA (decimal)
 *   rbd-client zero-counter URL LBA          write a zero block at LBA
 *   rbd-client capacity-change URL EXPECTED_BYTES SECONDS
 *   rbd-client outage URL SECONDS TIMEOUT
 *   rbd-client preempt-across URL_X URL_Y LBA
 *                                 persistent reservations across two gateways
 *   rbd-client register URL KEY   PERSISTENT RESERVE OUT REGISTER, timed
 *
 * URL is iscsi://host:port/target-iqn/lun; INITIATOR overrides the initiator
 * name. Exit status: 0 the check holds, 1 it does not, 2 usage or connection
 * error. Build: cc -O2 -Wall -Wextra -o rbd-client rbd-client.c -liscsi
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define DEFAULT_INITIATOR "iqn.2026-12.io.swiftport:rbd-client"
#define COMMAND_TIMEOUT 30 /* seconds, for every mode but outage */
#define SLOTS 256          /* distinct LBAs the outage mode writes */

static struct iscsi_context *iscsi;
static int lun, timeout_s; /* timeout_s: libiscsi's per-command timeout */
static uint32_t block_size;
static uint64_t capacity; /* bytes, from the last GOOD READ CAPACITY(16) */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int good(const struct scsi_task *t) { return t && t->status == SCSI_STATUS_GOOD; }

static int sense_is(const struct scsi_task *t, int key, int asc, int ascq)
{
	return t && t->status == SCSI_STATUS_CHECK_CONDITION && (int)t->sense.key == key &&
	       (t->sense.ascq >> 8) == asc && (ascq < 0 || (t->sense.ascq & 0xff) == ascq);
}

/* libiscsi lost the command itself: timed out, connection dropped or never sent. */
static int transport_failed(const struct scsi_task *t)
{
	return !t || t->status == SCSI_STATUS_TIMEOUT || t->status == SCSI_STATUS_CANCELLED ||
	       t->status == SCSI_STATUS_ERROR;
}

/* One line naming a command's outcome; equal outcomes give equal strings. */
static const char *outcome(const struct scsi_task *t)
{
	static char buf[256];

	if (good(t))
		return "GOOD";
	if (t && t->status == SCSI_STATUS_CHECK_CONDITION)
		snprintf(buf, sizeof buf, "CHECK CONDITION %s (key 0x%02x ASC 0x%02x ASCQ 0x%02x)",
			 scsi_sense_key_str(t->sense.key), t->sense.key, t->sense.ascq >> 8,
			 t->sense.ascq & 0xff);
	else if (t && t->status == SCSI_STATUS_TIMEOUT)
		snprintf(buf, sizeof buf, "libiscsi timeout (no response within %d s)", timeout_s);
	else if (t && t->status == SCSI_STATUS_CANCELLED)
		snprintf(buf, sizeof buf, "connection lost (libiscsi cancelled the command)");
	else if (transport_failed(t))
		snprintf(buf, sizeof buf, "transport failure (%s)", iscsi_get_error(iscsi));
	else
		snprintf(buf, sizeof buf, "SCSI status 0x%02x", t->status);
	return buf;
}

/* Names an unmet part of a mode's check on stderr; returns 1 if it is unmet. */
static int unmet(int bad, const char *fmt, ...)
{
	va_list ap;

	if (bad) {
		va_start(ap, fmt);
		fputs("rbd-client: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
	return bad;
}

/* Returns 1 (and says why on stderr) unless the command returned GOOD. */
static int failed(const char *cmd, const struct scsi_task *t)
{
	if (good(t))
		return 0;
	fprintf(stderr, "rbd-client: %s failed: %s\n", cmd, outcome(t));
	return 1;
}

static struct scsi_task *read_capacity(void)
{
	struct scsi_task *t = iscsi_readcapacity16_sync(iscsi, lun);
	struct scsi_readcapacity16 *rc;

	if (good(t) && (rc = scsi_datain_unmarshall(t)) != NULL) {
		block_size = rc->block_length;
		capacity = (rc->returned_lba + 1) * rc->block_length;
	}
	return t;
}

/* Logs in as `name` and leaves the unit ready, its capacity known; any problem exits 2. */
static void connect_as(const char *url, int timeout, const char *name)
{
	struct scsi_task *t = NULL;
	struct iscsi_url *u;
	int tries;

	iscsi = iscsi_create_context(name);
	if (!iscsi) {
		fprintf(stderr, "rbd-client: cannot create a libiscsi context\n");
		exit(2);
	}
	if (!(u = iscsi_parse_full_url(iscsi, url))) {
		fprintf(stderr, "rbd-client: bad URL %s: %s\n", url, iscsi_get_error(iscsi));
		exit(2);
	}
	iscsi_set_targetname(iscsi, u->target);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	/* A dropped connection must show as a failure: by default libiscsi logs in
	 * again silently and resends the commands that were in flight. */
	iscsi_set_noautoreconnect(iscsi, 1);
	iscsi_set_timeout(iscsi, timeout_s = timeout);
	lun = u->lun;
	if (iscsi_full_connect_sync(iscsi, u->portal, u->lun) != 0) {
		fprintf(stderr, "rbd-client: login to %s failed: %s\n", url, iscsi_get_error(iscsi));
		exit(2);
	}
	iscsi_destroy_url(u);
	/* A new nexus may owe us unit attentions (POWER ON and the like). */
	for (tries = 0; tries < 10 && !good(t); tries++) {
		scsi_free_scsi_task(t);
		t = iscsi_testunitready_sync(iscsi, lun);
	}
	if (failed("TEST UNIT READY (10 tries)", t))
		exit(2);
	scsi_free_scsi_task(t);
	t = read_capacity();
	if (failed("READ CAPACITY(16)", t))
		exit(2);
	scsi_free_scsi_task(t);
}

/* connect_as with the INITIATOR name, or the default. */
static void connect_lun(const char *url, int timeout)
{
	const char *name = getenv("INITIATOR");

	connect_as(url, timeout, name && *name ? name : DEFAULT_INITIATOR);
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = v & 0xff;
}

static int read_block(uint64_t lba, unsigned char *buf)
{
	struct scsi_task *t = iscsi_read16_sync(iscsi, lun, lba, block_size, block_size, 0, 0, 0, 0, 0);
	int bad = failed("READ(16)", t) || t->datain.size < (int)block_size;

	if (!bad)
		memcpy(buf, t->datain.data, block_size);
	scsi_free_scsi_task(t);
	return bad;
}

/* A write to an owner-mode LUN a host retries, and was not made: ASYMMETRIC ACCESS
 * STATE CHANGED (the write moved the LUN to this gateway, and the move's unit attention
 * reached its own nexus too), or NOT READY, ASYMMETRIC ACCESS STATE TRANSITION (the LUN
 * moved to another gateway just before, and stays there a moment): after 200 ms. */
static int moved_here(const struct scsi_task *t)
{
	struct timespec pause = { 0, 200 * 1000 * 1000 };

	if (sense_is(t, SCSI_SENSE_NOT_READY, 0x04, 0x0a)) {
		nanosleep(&pause, NULL);
		return 1;
	}
	return sense_is(t, SCSI_SENSE_UNIT_ATTENTION, 0x2a, 0x06);
}

static int caw_increment(uint64_t lba, uint64_t count)
{
	unsigned char *buf = malloc(2 * block_size); /* compare block, then write block */
	uint64_t done = 0, retries = 0, attentions = 0, value = 0;
	int rc = 0;

	while (done < count && rc == 0) {
		struct scsi_task *t;

		if (read_block(lba, buf)) {
			rc = 1;
			break;
		}
		memcpy(buf + block_size, buf, block_size);
		put_le64(buf + block_size, get_le64(buf) + 1);
		t = iscsi_compareandwrite_sync(iscsi, lun, lba, buf, 2 * block_size, block_size,
					       0, 0, 0, 0, 0);
		if (sense_is(t, SCSI_SENSE_MISCOMPARE, 0x1d, -1)) {
			retries++; /* the other writer got in between: read again */
		} else if (moved_here(t) && attentions < 25) {
			attentions++;
		} else if (failed("COMPARE AND WRITE", t)) {
			rc = 1;
		} else {
			done++;
			value = get_le64(buf + block_size);
		}
		scsi_free_scsi_task(t);
	}
	printf("%" PRIu64 " increments, %" PRIu64 " miscompares retried, %" PRIu64
	       " owner moves retried, last value %" PRIu64 "\n", done, retries, attentions, value);
	free(buf);
	return rc;
}

/* read-counter prints only the number, so a script can use it as is. */
static int read_or_zero(uint64_t lba, int zero)
{
	unsigned char *buf = calloc(1, block_size);
	struct scsi_task *t;
	int rc;

	if (zero) {
		t = iscsi_write16_sync(iscsi, lun, lba, buf, block_size, block_size, 0, 0, 0, 0, 0);
		for (int tries = 0; tries < 25 && moved_here(t); tries++) {
			scsi_free_scsi_task(t);
			t = iscsi_write16_sync(iscsi, lun, lba, buf, block_size, block_size, 0, 0, 0, 0, 0);
		}
		if ((rc = failed("WRITE(16)", t)) == 0)
			printf("counter at LBA %" PRIu64 " zeroed\n", lba);
		scsi_free_scsi_task(t);
	} else if ((rc = read_block(lba, buf)) == 0) {
		printf("%" PRIu64 "\n", get_le64(buf));
	}
	free(buf);
	return rc;
}

static int capacity_change(uint64_t expected, double seconds)
{
	uint64_t old = capacity, last = capacity;
	double start, ua_at = -1, done_at = -1;
	struct timespec pause = { 0, 200 * 1000 * 1000 };

	printf("ready\n");
	fflush(stdout);
	start = now();
	while (done_at < 0 && now() - start < seconds) {
		struct scsi_task *t = read_capacity();
		double at = now() - start;
		int lost = transport_failed(t);

		if (sense_is(t, SCSI_SENSE_UNIT_ATTENTION, 0x2a, 0x09) && ua_at < 0) {
			ua_at = at;
			printf("t=%.1fs READ CAPACITY(16): UNIT ATTENTION CAPACITY DATA HAS CHANGED "
			       "(06/2a/09)\n", at);
		} else if (!good(t)) {
			failed("READ CAPACITY(16)", t);
		} else if (capacity != last || (ua_at >= 0 && capacity == expected)) {
			printf("t=%.1fs READ CAPACITY(16): %" PRIu64 " bytes%s\n", at, capacity,
			       ua_at < 0 ? " (no unit attention before it)" : "");
			last = capacity;
			done_at = ua_at >= 0 && capacity == expected ? at : -1;
		}
		scsi_free_scsi_task(t);
		if (lost)
			break; /* no reconnect allowed, so the check cannot hold any more */
		nanosleep(&pause, NULL);
	}
	if (done_at >= 0) {
		printf("capacity change seen: unit attention 2a/09 after %.1f s, size %" PRIu64
		       " -> %" PRIu64 " bytes after %.1f s, same session\n", ua_at, old, last, done_at);
		return 0;
	}
	printf("capacity change not seen in %.0f s: %s, size %" PRIu64 " -> %" PRIu64
	       " bytes, expected %" PRIu64 "\n", seconds,
	       ua_at < 0 ? "no unit attention 2a/09" : "unit attention 2a/09 seen",
	       old, last, expected);
	unmet(ua_at < 0, "no CAPACITY DATA HAS CHANGED unit attention");
	unmet(last != expected, "READ CAPACITY(16) never reported %" PRIu64 " bytes", expected);
	return 1;
}

/* Outage mode: what happened so far, over all commands. */
static struct {
	double start, longest, longest_fail, shown_at;
	long good, failed, data_errors, hidden;
	int cc_seen, lost, recovered, nkinds;
	char state[256];
	struct { char what[256]; long n; } kinds[16]; /* failures by outcome */
} st;

/* Recognizable block contents: LBA and sequence number, then a byte ramp. */
static void fill(unsigned char *buf, uint64_t lba, uint64_t seq)
{
	for (uint32_t i = 16; i < block_size; i++)
		buf[i] = (unsigned char)(seq * 7 + i);
	put_le64(buf, lba);
	put_le64(buf + 8, seq);
}

/* Runs one command, records its outcome and prints state changes. */
static struct scsi_task *timed(const char *cmd, uint64_t lba, unsigned char *wbuf)
{
	double t0 = now(), dt;
	struct scsi_task *t = wbuf
		? iscsi_write16_sync(iscsi, lun, lba, wbuf, block_size, block_size, 0, 0, 0, 0, 0)
		: iscsi_read16_sync(iscsi, lun, lba, block_size, block_size, 0, 0, 0, 0, 0);
	const char *what = outcome(t);
	int k = 0, fresh = 0;

	dt = now() - t0;
	st.longest = dt > st.longest ? dt : st.longest;
	if (good(t)) {
		st.good++;
	} else {
		st.failed++;
		st.longest_fail = dt > st.longest_fail ? dt : st.longest_fail;
		st.cc_seen |= t && t->status == SCSI_STATUS_CHECK_CONDITION;
		st.lost |= transport_failed(t);
		while (k < st.nkinds && strcmp(st.kinds[k].what, what))
			k++;
		if (k == st.nkinds && k < 16) {
			fresh = 1;
			snprintf(st.kinds[st.nkinds++].what, sizeof st.kinds[0].what, "%s", what);
		}
		if (k < st.nkinds)
			st.kinds[k].n++;
	}
	if (strcmp(st.state, what)) {
		snprintf(st.state, sizeof st.state, "%s", what);
		/* Some objects may sit on a healthy OSD: do not print every flip. */
		if (!fresh && !st.lost && t0 - st.shown_at < 1.0) {
			st.hidden++;
			return t;
		}
		printf("t=%.1fs %s: %s %s after %.2f s", t0 - st.start,
		       good(t) ? "good again" : st.failed == 1 ? "first failure" : "failure",
		       cmd, what, dt);
		if (st.hidden)
			printf(" (%ld state changes since the last line)", st.hidden + 1);
		printf("\n");
		fflush(stdout);
		st.hidden = 0;
		st.shown_at = t0;
	}
	return t;
}

static int outage(double seconds, int timeout)
{
	struct { uint64_t good_seq; int dirty; } slots[SLOTS] = { { 0, 0 } };
	uint64_t span = capacity < (64ull << 20) ? capacity : 64ull << 20;
	uint64_t stride = span / block_size / SLOTS, seq = 0, rnd = 0x5eed;
	unsigned char *wbuf, *expect;
	int rc = 0;

	if (stride == 0) {
		fprintf(stderr, "rbd-client: LUN too small for %d distinct blocks\n", SLOTS);
		return 2;
	}
	wbuf = malloc(block_size);
	expect = malloc(block_size);
	snprintf(st.state, sizeof st.state, "GOOD");
	st.start = now();
	while (now() - st.start < seconds && !st.lost) {
		int s, wrote;
		uint64_t lba, got;
		struct scsi_task *t;

		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull; /* LCG */
		s = (rnd >> 33) % SLOTS;
		lba = s * stride;
		fill(wbuf, lba, ++seq);
		t = timed("WRITE16", lba, wbuf);
		wrote = good(t);
		/* A failed write leaves the block old or new, maybe landing later. */
		slots[s].dirty = !wrote;
		slots[s].good_seq = wrote ? seq : slots[s].good_seq;
		scsi_free_scsi_task(t);
		if (st.lost)
			break;
		t = timed("READ16", lba, NULL);
		if (good(t) && slots[s].good_seq) {
			int whole = t->datain.size >= (int)block_size;

			got = whole ? get_le64(t->datain.data + 8) : 0;
			fill(expect, lba, got);
			if (whole && !memcmp(expect, t->datain.data, block_size) &&
			    (got == slots[s].good_seq || (slots[s].dirty && got > slots[s].good_seq))) {
				/* Served again once the storage answered (a one-node
				 * OSD may keep some ops stuck after SIGCONT, so later
				 * failures on them do not undo this). */
				st.recovered |= wrote && st.failed > 0;
			} else {
				st.data_errors++;
				fprintf(stderr, "rbd-client: data error: READ16 at LBA %" PRIu64
					" returned GOOD but not the block written with seq %" PRIu64 "\n",
					lba, slots[s].good_seq);
			}
		}
		scsi_free_scsi_task(t);
	}
	if (st.hidden)
		printf("t=%.1fs last state: %s (%ld state changes since the last line)\n",
		       now() - st.start, st.state, st.hidden);
	printf("outage: %ld good, %ld failed (%s", st.good, st.failed, st.nkinds ? "" : "none");
	for (int k = 0; k < st.nkinds; k++)
		printf("%s%ldx %s", k ? ", " : "", st.kinds[k].n, st.kinds[k].what);
	printf("), longest failing command %.2f s, longest command %.2f s, %ld data errors, "
	       "good write+read after a failure: %s\n", st.longest_fail, st.longest,
	       st.data_errors, st.recovered ? "yes" : "no");
	rc |= unmet(!st.cc_seen, "no CHECK CONDITION seen");
	rc |= unmet(st.longest_fail > timeout + 10, "a failing command took %.2f s, more than "
		    "TIMEOUT+10 = %d s", st.longest_fail, timeout + 10);
	rc |= unmet(st.lost, "transport failure or libiscsi timeout: session lost or command "
		    "abandoned");
	rc |= unmet(st.data_errors > 0, "%ld data errors", st.data_errors);
	rc |= unmet(!st.recovered, "no GOOD write + matching read after a failure: the LUN never served again");
	free(wbuf);
	free(expect);
	return rc;
}

static struct scsi_task *reserve_out(int action, int type, uint64_t key, uint64_t service_action_key)
{
	struct scsi_persistent_reserve_out_basic parameters = {
		.reservation_key = key, .service_action_reservation_key = service_action_key,
	};

	return iscsi_persistent_reserve_out_sync(iscsi, lun, action, 0, type, &parameters);
}

/* Runs one PERSISTENT RESERVE OUT; 1 (said on stderr) unless it is GOOD. */
static int reserve_out_failed(const char *what, int action, int type, uint64_t key, uint64_t service_action_key)
{
	struct scsi_task *t = reserve_out(action, type, key, service_action_key);
	int bad = failed(what, t);

	scsi_free_scsi_task(t);
	return bad;
}

/* WRITE(16) of one block; its outcome is returned, the task freed. */
static int write_status(uint64_t lba, unsigned char *buf, char *said, size_t said_length)
{
	struct scsi_task *t = iscsi_write16_sync(iscsi, lun, lba, buf, block_size, block_size, 0, 0, 0, 0, 0);
	int status = t ? t->status : -1;

	snprintf(said, said_length, "%s", status == SCSI_STATUS_RESERVATION_CONFLICT ? "RESERVATION CONFLICT" : outcome(t));
	scsi_free_scsi_task(t);
	return status;
}

/*
 * Initiator X registers and takes a WRITE EXCLUSIVE reservation through the first
 * gateway; Y, through the second, meets it, registers and PREEMPTs X, and writes;
 * X's next WRITE through the first gateway meets RESERVATION CONFLICT (after the
 * REGISTRATIONS PREEMPTED unit attention), never GOOD; Y's block reads back through
 * both. Y's CLEAR at the end leaves the unit without registrations.
 */
static int preempt_across(const char *url_x, const char *url_y, uint64_t lba)
{
	const uint64_t key_x = 0x5858, key_y = 0x5959;
	struct iscsi_context *x, *y;
	unsigned char *data, *back;
	char said[256];
	int rc = 0, status, tries;

	connect_as(url_x, COMMAND_TIMEOUT, "iqn.2026-12.io.swiftport:initiator-x");
	x = iscsi;
	connect_as(url_y, COMMAND_TIMEOUT, "iqn.2026-12.io.swiftport:initiator-y");
	y = iscsi;
	data = malloc(block_size);
	back = malloc(block_size);
	memset(data, 0x59, block_size);

	iscsi = x;
	if (reserve_out_failed("X: REGISTER", SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, key_x) ||
	    reserve_out_failed("X: RESERVE", SCSI_PERSISTENT_RESERVE_RESERVE, SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE, key_x, 0))
		return 1;
	iscsi = y;
	status = write_status(lba, data, said, sizeof said);
	printf("Y's WRITE through the other gateway under X's reservation: %s\n", said);
	rc |= unmet(status != SCSI_STATUS_RESERVATION_CONFLICT, "Y's WRITE was not refused: %s", said);
	if (reserve_out_failed("Y: REGISTER", SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, key_y) ||
	    reserve_out_failed("Y: PREEMPT", SCSI_PERSISTENT_RESERVE_PREEMPT, SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE, key_y, key_x))
		return 1;
	status = write_status(lba, data, said, sizeof said);
	rc |= unmet(status != SCSI_STATUS_GOOD, "Y's WRITE as the new holder: %s", said);

	iscsi = x;
	memset(back, 0x58, block_size);
	for (tries = 0; tries < 3; tries++) {
		status = write_status(lba, back, said, sizeof said);
		printf("X's WRITE after the PREEMPT: %s\n", said);
		if (status != SCSI_STATUS_CHECK_CONDITION)
			break;
	}
	rc |= unmet(status != SCSI_STATUS_RESERVATION_CONFLICT, "X's WRITE after the PREEMPT: %s", said);
	rc |= read_block(lba, back) || unmet(memcmp(back, data, block_size) != 0, "the block read through X's gateway is not Y's");
	iscsi = y;
	rc |= read_block(lba, back) || unmet(memcmp(back, data, block_size) != 0, "the block read through Y's gateway is not Y's");
	rc |= reserve_out_failed("Y: CLEAR", SCSI_PERSISTENT_RESERVE_CLEAR, 0, key_y, 0);
	free(data);
	free(back);
	iscsi_logout_sync(x);
	iscsi_destroy_context(x);
	return rc;
}

/* REGISTER with `key`, saying how long the answer took (a gateway cluster answers
 * only once every live gateway has applied it, or the silent ones are fenced). */
static int timed_register(uint64_t key)
{
	double start = now();
	int bad = reserve_out_failed("REGISTER", SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, key);

	printf("REGISTER %s after %.2f s\n", bad ? "failed" : "GOOD", now() - start);
	return bad;
}

static uint64_t number(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 10);

	if (*s == '\0' || *s == '-' || *end != '\0') {
		fprintf(stderr, "rbd-client: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int counter = !strcmp(mode, "read-counter") || !strcmp(mode, "zero-counter") || !strcmp(mode, "register");
	int wanted = counter ? 4 : (!strcmp(mode, "caw-increment") || !strcmp(mode, "capacity-change") ||
		     !strcmp(mode, "outage") || !strcmp(mode, "preempt-across")) ? 5 : 0;
	uint64_t a, b;
	int rc;

	if (wanted == 0 || argc != wanted) {
		fprintf(stderr, "usage: rbd-client caw-increment URL LBA COUNT\n"
				"       rbd-client read-counter URL LBA\n"
				"       rbd-client zero-counter URL LBA\n"
				"       rbd-client capacity-change URL EXPECTED_BYTES SECONDS\n"
				"       rbd-client outage URL SECONDS TIMEOUT\n"
				"       rbd-client preempt-across URL_X URL_Y LBA\n"
				"       rbd-client register URL KEY\n");
		return 2;
	}
	if (!strcmp(mode, "preempt-across")) {
		rc = preempt_across(argv[2], argv[3], number(argv[4]));
		iscsi_logout_sync(iscsi);
		iscsi_destroy_context(iscsi);
		return rc;
	}
	a = number(argv[3]);
	b = argc > 4 ? number(argv[4]) : 0;
	connect_lun(argv[2], !strcmp(mode, "outage") ? (int)b + 15 : COMMAND_TIMEOUT);
	if (!strcmp(mode, "register"))
		rc = timed_register(a);
	else if (counter)
		rc = read_or_zero(a, !strcmp(mode, "zero-counter"));
	else if (!strcmp(mode, "caw-increment"))
		rc = caw_increment(a, b);
	else if (!strcmp(mode, "capacity-change"))
		rc = capacity_change(a, b);
	else
		rc = outage(a, (int)b);
	iscsi_logout_sync(iscsi);
	iscsi_destroy_context(iscsi);
	return rc;
}
