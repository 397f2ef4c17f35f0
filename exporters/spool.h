/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * spool: the frames the collector has not acknowledged yet, in send order,
 * bounded in bytes. When full, the oldest HostSummary frames go first, then
 * the oldest Transactions, then the oldest Alerts, each drop counted. With
 * a directory, every frame is also appended to a segment file so that a
 * restarted sensor sends what the previous run left (same run_id and seq).
 * Knows nothing of protobuf: a frame is bytes plus (run_id, seq, class).
 *
 * Owns: the frames (in memory, spool bytes == memory bytes), the segment
 * files and the directory lock. One thread only (the exporter thread).
 *
 * On disk, DIR/<segno:16 hex>-<class>.seg, one run and one class per file,
 * appended only, never rewritten:
 *   header  32 bytes: "RWSPOOL1", u32 version (1), u32 class, u64 run_id,
 *           u32 reserved (0), u32 crc32 of the 28 bytes before it
 *   record  u32 len, u32 crc32 of (seq, frame), u64 seq, len bytes of frame
 * Integers little-endian. DIR/spool.state (rewritten through a rename) says
 * where each class's oldest unacknowledged frame starts; it may be stale,
 * which only re-sends frames the collector already has (it deduplicates).
 * Reading stops at the first record that is cut short or fails its CRC
 * (a crash or power loss mid-write): the rest of that file is skipped with
 * a warning and counted.
 *
 * Durability: records are written (to the page cache) in batches, when the
 * owner calls spool_flush() after each batch of appends; a killed process
 * loses nothing flushed. spool_sync() fdatasyncs the files and the directory
 * (the owner calls it about once a second: a power loss loses at most that
 * much, and acks taken since the last state save are forgotten, so those
 * frames are sent again; the collector drops them by seq).
 */
#ifndef RELAYWATCH_EXPORTERS_SPOOL_H
#define RELAYWATCH_EXPORTERS_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"

/* Ordered by how long a frame is kept when the spool is full (last goes first). */
enum spool_class { SPOOL_ALERT = 0, SPOOL_TX = 1, SPOOL_SUMMARY = 2, SPOOL_CLASS_COUNT };

#define SPOOL_FRAME_MAX	  (1u << 20) /* a longer record on disk is corruption */
#define SPOOL_REC_HDR	  16u
#define SPOOL_SEG_HDR	  32u
#define SPOOL_SEG_DEFAULT (4u << 20)

struct spool_cfg {
	const char *dir;	/* NULL or "": memory only */
	uint64_t max_bytes;	/* frames + record headers; the disk holds up to a
				 * segment per class more (dead frames of live files) */
	uint64_t run_id;	/* frames appended now belong to this run */
	uint32_t segment_bytes; /* 0: SPOOL_SEG_DEFAULT, capped at max_bytes / 8 */
};

/* All uint64_t: published with stats.h. */
struct spool_stats {
	uint64_t bytes;	 /* gauge: frames held, record headers included */
	uint64_t frames; /* gauge */
	uint64_t frames_by_class[SPOOL_CLASS_COUNT]; /* gauge */
	uint64_t appended;
	uint64_t acked;
	uint64_t evicted[SPOOL_CLASS_COUNT]; /* pushed out by newer, more important frames */
	uint64_t refused[SPOOL_CLASS_COUNT]; /* full of more important frames, or too big */
	uint64_t recovered;		     /* frames read back from a previous run's files */
	uint64_t recovered_bytes;
	uint64_t damaged_files; /* cut short or failing a CRC: rest of the file skipped */
	uint64_t damaged_bytes;
	uint64_t write_errors; /* the frame stays in memory; only the disk copy is lost */
	uint64_t segments;     /* gauge: files in the directory */
	uint64_t syncs;
};

/* A frame as handed to the sender; data stays valid until it is acked or evicted. */
struct spool_frame {
	uint64_t run_id;
	uint64_t seq;
	const uint8_t *data;
	uint32_t len;
	uint8_t cls; /* enum spool_class */
	bool resend; /* sent before (earlier connection or earlier run) */
};

struct spool;

/* Creates DIR (0700) if needed, locks it, reads back what a previous run
 * left; -errno with the reason in eb (DIR in use by another process, ...). */
int spool_open(const struct spool_cfg *cfg, struct spool **out, struct errbuf *eb);
/* Syncs and saves the state; frames still held stay in the files. */
void spool_close(struct spool *sp);

/* 0, or -ENOSPC when the frame was refused (counted). */
int spool_append(struct spool *sp, enum spool_class cls, uint64_t seq, const void *data,
		 uint32_t len);

/* The oldest frame not yet sent on this connection; false when there is none
 * or it is longer than max_len (it stays next). */
bool spool_next(struct spool *sp, uint32_t max_len, struct spool_frame *out);
bool spool_has_unsent(const struct spool *sp);
/* The connection is gone: every frame held is unsent again. */
void spool_rewind(struct spool *sp);
/* Cumulative ack: drops the sent frames of run_id up to seq; returns how many. */
unsigned int spool_ack(struct spool *sp, uint64_t run_id, uint64_t seq);
/* Frames sent and not yet acknowledged. */
uint64_t spool_in_flight(const struct spool *sp);
/* Nothing held: every frame was acknowledged (or dropped). */
bool spool_is_empty(const struct spool *sp);

/* Writes the records buffered since the last call (the owner calls it after
 * each batch of appends: until then a crash loses them, as it would lose
 * the frames not yet handed to the spool). */
void spool_flush(struct spool *sp);
/* Flushes, fdatasyncs the files written since the last call, fsync DIR when files came
 * or went, save the state. 0 or -errno (counted, the spool goes on). */
int spool_sync(struct spool *sp);

void spool_stats(const struct spool *sp, struct spool_stats *out);
const char *spool_class_name(enum spool_class c);

#endif /* RELAYWATCH_EXPORTERS_SPOOL_H */
