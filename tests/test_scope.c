/* test_scope.c — placeholder, being written. */
#include <criterion/criterion.h>
