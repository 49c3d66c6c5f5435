/*
 * fuzz_providers.c - the provider list parser of spfcheck tree
 * (cmd_providers_parse in cmd/providers.c) on arbitrary bytes.  A list
 * that parses must answer lookups for every domain it holds and stay
 * within its bounds; a refused one gives a one-line reason that names
 * the file.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[700];
	struct cmd_providers *p;

	why[0] = '\0';
	p = cmd_providers_parse((const char *)data, size, "fuzz.txt", why,
	    sizeof(why));
	if (p == NULL) {
		if (strncmp(why, "fuzz.txt", 8) != 0 || strchr(why, '\n') != NULL)
			__builtin_trap();
		return 0;
	}
	if (cmd_providers_count(p) > 10000)
		__builtin_trap();
	/* the first word of each line, looked up: a listed one has a name */
	for (size_t i = 0; i < size && i < 4096;) {
		char word[300];
		size_t n = 0;

		while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n'))
			i++;
		while (i < size && n + 1 < sizeof(word) && data[i] != ' ' &&
		    data[i] != '\t' && data[i] != '\n' && data[i] != '\0')
			word[n++] = (char)data[i++];
		word[n] = '\0';
		(void)cmd_provider_name(p, word);
		while (i < size && data[i] != '\n')
			i++;
	}
	cmd_providers_free(p);
	return 0;
}
