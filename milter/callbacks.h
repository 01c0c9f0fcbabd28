/*
 * callbacks - libmilter glue: the xxfi_* callbacks and their descriptor.
 * Each callback gathers libmilter's arguments and macros, hands plain
 * facts to the session and turns the session's decision into a status.
 */
#ifndef MAILVET_CALLBACKS_H
#define MAILVET_CALLBACKS_H

#include <libmilter/mfapi.h>

extern struct smfiDesc callbacks_desc;

#endif
