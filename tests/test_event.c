/* test_event.c — placeholder, being written. */
#include <criterion/criterion.h>
