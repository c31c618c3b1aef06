/* event.c — placeholder, being written. */
