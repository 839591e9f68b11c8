// Atomic outputs: nothing appears until commit; a failed run leaves nothing; foreign directories
// are never replaced.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "scorematch/core/error.hpp"
#include "scorematch/io/output_dir.hpp"
#include "scratch.hpp"

using namespace scorematch;
namespace fs = std::filesystem;

namespace {
fs::path fresh(const std::string& name) {
  const fs::path p = scorematch::testing::scratch_dir() / "outdir" / name;
  fs::remove_all(p);
  fs::create_directories(p.parent_path());
  return p;
}
}  // namespace

TEST(OutputDir, NothingIsVisibleUntilCommitAndAbandonedOutputIsRemoved) {
  const fs::path p = fresh("abandoned");
  {
    io::OutputDir dir(p.string());
    dir.write_text("meta.json", "{}");
    EXPECT_FALSE(fs::exists(p));
  }  // destroyed without commit, as when an error is thrown
  EXPECT_FALSE(fs::exists(p));
  for (const auto& entry : fs::directory_iterator(p.parent_path()))
    EXPECT_EQ(entry.path().filename().string().find("abandoned"), std::string::npos)
        << entry.path();
}

TEST(OutputDir, CommitPublishesAndReplacesAPreviousOutput) {
  const fs::path p = fresh("model2");
  {
    io::OutputDir dir(p.string());
    dir.write_text("meta.json", "first");
    dir.commit();
  }
  {
    io::OutputDir dir(p.string());
    dir.write_text("meta.json", "second");
    dir.commit();
  }
  std::ifstream in(p / "meta.json");
  std::string text;
  in >> text;
  EXPECT_EQ(text, "second");
}

TEST(OutputDir, RefusesToReplaceSomethingElse) {
  const fs::path p = fresh("precious");
  fs::create_directories(p);
  std::ofstream(p / "thesis.tex") << "important";
  EXPECT_THROW(io::OutputDir dir(p.string()), Error);
  EXPECT_TRUE(fs::exists(p / "thesis.tex"));
}
