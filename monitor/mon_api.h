/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-monitor's core (monitor_core): everything but the terminal and the
 * sockets, so that it is tested without either.
 *   mon_fmt     numbers with K/M/G units, absent shown as "-", text buffers
 *   mon_frame   one line of the stats socket: stats (contract 2) or a reply
 *               to a control command (contract 3)
 *   mon_lines   a byte stream cut into lines
 *   mon_model   the cluster as last seen: shares, history, events, bad lines,
 *               the link's state; sort orders
 *   mon_ctl     control commands encoded and matched with their replies
 *   mon_keys    the keys as a state machine over the view
 *   mon_screen  the screen laid out into a text grid
 *   mon_batch   plain text frames (--batch)
 *   mon_opts    the command line (parsed, not printed)
 * The binary adds the ncursesw front end (mon_tui.c) and the poll loop
 * (mon_main.c).
 */
#ifndef MON_API_H
#define MON_API_H

#include "mon_batch.h"
#include "mon_ctl.h"
#include "mon_fmt.h"
#include "mon_frame.h"
#include "mon_keys.h"
#include "mon_lines.h"
#include "mon_model.h"
#include "mon_opts.h"
#include "mon_screen.h"

#endif
