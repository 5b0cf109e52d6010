/*
 * Unit tests for log: the journal's priority prefixes appear only when
 * JOURNAL_STREAM names the very stream the lines go to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static void log_journal_stream__matches_only_its_own_device_and_inode(void **state)
{
	(void)state;
	FILE *f = tmpfile();
	assert_non_null(f);
	struct stat st;
	assert_int_equal(fstat(fileno(f), &st), 0);
	char env[64];
	snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	assert_true(log_journal_stream(env, fileno(f)));
	snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino + 1);
	assert_false(log_journal_stream(env, fileno(f)));
	assert_false(log_journal_stream(NULL, fileno(f)));
	assert_false(log_journal_stream("junk", fileno(f)));
	fclose(f);
}

static void log_msg__journal__prefixes_each_line_with_its_priority(void **state)
{
	(void)state;
	FILE *f = tmpfile();
	assert_non_null(f);
	log_init("t", LOG_DEBUG);
	log_set_output(f);
	log_set_journal(true);
	log_error("e");
	log_warn("w");
	log_info("i");
	log_debug("d");
	log_set_journal(false);
	log_info("plain");
	log_set_output(NULL);
	rewind(f);
	char line[256];
	const char *want[] = {"<3>", "<4>", "<6>", "<7>"};
	for (size_t i = 0; i < 4; i++) {
		assert_non_null(fgets(line, sizeof line, f));
		assert_memory_equal(line, want[i], 3);
		assert_non_null(strstr(line, "Z "));
	}
	assert_non_null(fgets(line, sizeof line, f));
	assert_true(line[0] >= '0' && line[0] <= '9'); /* the timestamp first */
	assert_non_null(strstr(line, " info t: plain"));
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(log_journal_stream__matches_only_its_own_device_and_inode),
	    cmocka_unit_test(log_msg__journal__prefixes_each_line_with_its_priority),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
