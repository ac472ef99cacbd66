/* gst-vlm tests — a private X server (Xvfb from Debian's xvfb package) for
 * the tests that need a display: GL (Mesa llvmpipe renders) and the
 * scanner's window. Header-only.
 *
 * `Xvfb -displayfd` picks a free display number and writes it once it
 * accepts connections; the server dies with the test (PR_SET_PDEATHSIG)
 * and tu_xvfb_stop() ends it at teardown.
 */
#ifndef VLM_XVFB_UTIL_H
#define VLM_XVFB_UTIL_H

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t tu_xvfb_pid = -1;

/* Child side: Xvfb writing its display number to fd. */
static inline void
tu_xvfb_exec (int fd)
{
  char fd_s[16];
  int null = open ("/dev/null", O_RDWR);

  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (null >= 0) {
    dup2 (null, 0);
    dup2 (null, 1);
    dup2 (null, 2);
  }
  snprintf (fd_s, sizeof fd_s, "%d", fd);
  execlp ("Xvfb", "Xvfb", "-displayfd", fd_s, "-screen", "0",
      "1280x1024x24", "-nolisten", "tcp", "-noreset", (char *) NULL);
  _exit (127);
}

/* Starts Xvfb; its display (":N") goes to display (cap bytes). Waits up
 * to 30 s for it. Returns 0, or -1 with a message on stderr. */
static inline int
tu_xvfb_start (char *display, size_t cap)
{
  int fds[2];
  char buf[32] = "";
  size_t got = 0;
  time_t end = time (NULL) + 30;

  if (pipe (fds) != 0 || (tu_xvfb_pid = fork ()) < 0)
    return -1;
  if (tu_xvfb_pid == 0) {
    close (fds[0]);
    tu_xvfb_exec (fds[1]);
  }
  close (fds[1]);
  while (got < sizeof buf - 1 && !strchr (buf, '\n')) {
    struct pollfd p = { fds[0], POLLIN, 0 };
    ssize_t n;

    if (time (NULL) >= end || poll (&p, 1, 1000) < 0)
      break;
    if (p.revents == 0)
      continue;
    n = read (fds[0], buf + got, sizeof buf - 1 - got);
    if (n <= 0)
      break;
    got += (size_t) n;
    buf[got] = '\0';
  }
  close (fds[0]);
  if (!strchr (buf, '\n')) {
    fprintf (stderr, "Xvfb did not start (is the xvfb package installed?)\n");
    kill (tu_xvfb_pid, SIGTERM);
    waitpid (tu_xvfb_pid, NULL, 0);
    tu_xvfb_pid = -1;
    return -1;
  }
  snprintf (display, cap, ":%d", atoi (buf));
  fprintf (stderr, "Xvfb on %s\n", display);
  return 0;
}

/* Ends the Xvfb of tu_xvfb_start (if any). */
static inline void
tu_xvfb_stop (void)
{
  if (tu_xvfb_pid > 0) {
    kill (tu_xvfb_pid, SIGTERM);
    waitpid (tu_xvfb_pid, NULL, 0);
  }
  tu_xvfb_pid = -1;
}

#endif /* VLM_XVFB_UTIL_H */
