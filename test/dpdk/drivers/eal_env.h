// EAL set-up shared by the driver tests: no hugepages, no PCI, a file prefix
// unique to the process, and a captured log so tests can assert on what a
// user would read.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <unistd.h>

#include <rte_eal.h>
#include <rte_log.h>

namespace spray::test {

inline FILE *&log_stream()
{
	static FILE *f = nullptr;
	return f;
}

// Everything EAL and drivers logged so far.
inline std::string captured_log()
{
	FILE *f = log_stream();
	std::fflush(f);
	std::string s;
	std::rewind(f);
	char buf[4096];
	size_t n;
	while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
		s.append(buf, n);
	std::fseek(f, 0, SEEK_END);
	return s;
}

inline bool init_eal(const char *argv0, const std::vector<std::string> &extra = {})
{
	log_stream() = std::tmpfile();
	rte_openlog_stream(log_stream());
	static std::string prefix = "spray_drv_test_" + std::to_string(getpid());
	std::vector<std::string> args = {argv0, "--no-huge", "-m", "256", "--no-pci",
					 "--file-prefix", prefix, "-l", "0",
					 "--log-level=notice"};
	args.insert(args.end(), extra.begin(), extra.end());
	std::vector<char *> argv;
	for (auto &a : args)
		argv.push_back(a.data());
	return rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0;
}

} // namespace spray::test
