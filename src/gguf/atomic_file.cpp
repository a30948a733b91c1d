#include "atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

namespace qes::gguf {
namespace {
std::string folder_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}
[[noreturn]] void io_error(int e, const std::string& what) { throw std::system_error(e, std::generic_category(), what); }
}  // namespace

AtomicFile::AtomicFile(const std::string& path) : path_(path) {
  std::string templ = path + ".tmp.XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  int fd = ::mkstemp(buf.data());
  if (fd < 0) io_error(errno, path + ": cannot create a temporary file beside it");
  tmp_path_ = buf.data();
  // mkstemp creates 0600; a model file should get the usual permissions.
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  file_ = ::fdopen(fd, "wb");
  if (!file_) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp_path_.c_str());
    io_error(e, tmp_path_ + ": cannot open");
  }
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
}

AtomicFile::~AtomicFile() {
  if (file_) std::fclose(file_);
  if (!committed_) ::unlink(tmp_path_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  if (n == 0) return;
  if (std::fwrite(data, 1, n, file_) != n) io_error(errno, tmp_path_ + ": write failed");
  written_ += n;
}

void AtomicFile::pad_zeros(size_t n) {
  static const char zeros[256] = {};
  while (n > 0) {
    size_t k = n < sizeof zeros ? n : sizeof zeros;
    write(zeros, k);
    n -= k;
  }
}

void AtomicFile::commit() {
  if (std::fflush(file_) != 0) io_error(errno, tmp_path_ + ": write failed");
  if (::fsync(::fileno(file_)) != 0) io_error(errno, tmp_path_ + ": fsync failed");
  FILE* f = file_;
  file_ = nullptr;
  if (std::fclose(f) != 0) io_error(errno, tmp_path_ + ": close failed");
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) io_error(errno, path_ + ": cannot rename " + tmp_path_ + " to it");
  committed_ = true;
  // Make the rename itself durable.
  int dfd = ::open(folder_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace qes::gguf
