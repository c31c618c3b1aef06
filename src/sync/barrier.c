/* barrier.c — placeholder, being written. */
