// Low-level pieces for files written by several ranks at once: create at full size, write a
// block at an offset (pwrite), fsync, rename. Coordination lives in dist/collective_write.hpp.
#pragma once
#include <cstddef>
#include <string>

namespace scorematch::io {

void create_sized_file(const std::string& path, const std::string& header, std::size_t total_size);
void write_at(const std::string& path, std::size_t offset, const char* data, std::size_t size);
void fsync_file(const std::string& path);
void rename_file(const std::string& from, const std::string& to);
void remove_file(const std::string& path);

}  // namespace scorematch::io
