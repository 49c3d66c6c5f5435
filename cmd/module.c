/*
 * module.c - run a subcommand that lives in a module of its own.
 *
 * DESCRIPTION
 *	`spfcheck report` needs libxml2 (with ICU) and libarchive: shared
 *	libraries that every other command would load, relocate and map
 *	at each start for nothing.  So report is built as a module
 *	(spfcheck-report.so) that only it loads, with dlopen(); it finds
 *	the rest of spfcheck (the evaluator, the DNS layer, the output
 *	helpers) in the executable, which exports them.
 *
 *	The module is looked for next to the executable first (the build
 *	tree: build/cmd/), then in SPFCHECK_MODULEDIR (where meson installs
 *	it, e.g. /usr/lib/x86_64-linux-gnu/spfcheck).  Every symbol is
 *	bound when it is loaded (RTLD_NOW), so a module that does not fit
 *	the executable is refused with a clear error instead of failing
 *	half-way through a run.
 *
 * DIAGNOSTICS
 *	A module that cannot be found or loaded: one line on stderr and
 *	EXIT_INTERNAL (70).
 */
#include "cmd.h"

#include <dlfcn.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#ifndef SPFCHECK_MODULEDIR
#define SPFCHECK_MODULEDIR "/usr/local/lib/spfcheck"
#endif

/* dir/file into buf; false if it does not fit */
static bool join(char *buf, size_t size, const char *dir, size_t dirlen,
	const char *file)
{
	size_t flen = strlen(file);

	if (dirlen + 1 + flen + 1 > size)
		return false;
	memcpy(buf, dir, dirlen);
	buf[dirlen] = '/';
	memcpy(buf + dirlen + 1, file, flen + 1);
	return true;
}

/* Where module file is: next to the executable, else the installed
 * directory.  path receives the one to load. */
static void module_path(char *path, size_t size, const char *file)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL &&
		    join(path, size, self, (size_t)(slash - self), file) &&
		    access(path, R_OK) == 0)
			return;
	}
	if (!join(path, size, SPFCHECK_MODULEDIR, strlen(SPFCHECK_MODULEDIR), file))
		path[0] = '\0';
}

int cmd_run_module(const char *cmd, const char *file, const char *entry,
	int argc, char **argv)
{
	char path[PATH_MAX + 64];
	void *h;
	int (*run)(int, char **);

	module_path(path, sizeof(path), file);
	h = path[0] != '\0' ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
	if (h == NULL) {
		const char *why = path[0] != '\0' ? dlerror() : "path too long";

		cmd_error("%s: cannot load its module %s: %s (spfcheck is not "
			"installed completely)", cmd, file, why ? why : "unknown error");
		return EXIT_INTERNAL;
	}
	*(void **)&run = dlsym(h, entry);
	if (run == NULL) {
		cmd_error("%s: the module %s has no %s", cmd, path, entry);
		dlclose(h);
		return EXIT_INTERNAL;
	}
	/* never unloaded: whatever the command registered (atexit, libxml2's
	 * types) stays valid until the process ends */
	return run(argc, argv);
}
