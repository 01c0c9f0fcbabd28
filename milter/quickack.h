/*
 * quickack - immediate ACKs on inet milter connections (see quickack.c
 * for why and how: the executable interposes accept() and poll() for
 * libmilter)
 */
#ifndef MAILVET_QUICKACK_H
#define MAILVET_QUICKACK_H

/*
 * quickack_watch_listener - connections accepted on the listening TCP
 * socket fd get TCP_QUICKACK whenever libmilter is about to wait on them
 */
void quickack_watch_listener(int fd);

/*
 * quickack_bound_listener_wait - libmilter's waits on the listening socket
 * fd last at most 200 ms, so that SIGTERM is acted on at once
 */
void quickack_bound_listener_wait(int fd);

/* quickack_is_noted - whether fd is a noted milter connection (tests) */
int quickack_is_noted(int fd);

#endif
