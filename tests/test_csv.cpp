// CSV reader: headers, row ranges, blank lines and CRLF, and one clear message per bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "scorematch/core/error.hpp"
#include "scorematch/io/csv.hpp"
#include "scratch.hpp"

using namespace scorematch;
namespace fs = std::filesystem;

namespace {
std::string write_csv(const std::string& name, const std::string& text) {
  const fs::path dir = scorematch::testing::scratch_dir() / "csv";
  fs::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::string& text) {
  const std::string path = write_csv("bad.csv", text);
  try {
    const io::CsvInfo info = io::scan_csv(path);
    io::read_csv_rows(path, info, {0, info.rows});
  } catch (const Error& e) {
    std::string msg = e.what();
    const auto at = msg.find(path);
    if (at != std::string::npos) msg.replace(at, path.size(), "bad.csv");
    return msg;
  }
  return "(no error)";
}
}  // namespace

TEST(Csv, ReadsHeaderAndRowRanges) {
  const std::string p = write_csv("ok.csv", "a,b\n1,2\n3.5,-4e2\n\n+5, 6 \r\n");
  const io::CsvInfo info = io::scan_csv(p);
  EXPECT_EQ(info.columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(info.rows, 3);
  Matrix expected(3, 2);
  expected << 1, 2, 3.5, -400, 5, 6;
  EXPECT_EQ(io::read_csv_rows(p, info, {0, 3}), expected);
  EXPECT_EQ(io::read_csv_rows(p, info, {1, 3}), expected.bottomRows(2));
  EXPECT_EQ(io::read_csv_rows(p, info, {2, 2}).rows(), 0);
}

TEST(Csv, ShippedFaithfulDataHas272RowsWithDocumentedMeans) {
  const std::string p = std::string(SCOREMATCH_SOURCE_DIR) + "/data/faithful.csv";
  const io::CsvInfo info = io::scan_csv(p);
  ASSERT_EQ(info.rows, 272);
  const Matrix x = io::read_csv_rows(p, info, {0, 272});
  EXPECT_NEAR(x.col(0).mean(), 3.48778, 1e-5);  // data/README.md
  EXPECT_NEAR(x.col(1).mean(), 70.8971, 1e-4);
}

TEST(Csv, EveryBadInputGetsOneClearMessage) {
  EXPECT_EQ(error_of(""), "'bad.csv' is empty (expected a header line and data rows)");
  EXPECT_EQ(error_of("a,b\n"), "'bad.csv' has a header but no data rows");
  EXPECT_EQ(error_of("a,b\n1,2\n3,4,5\n"),
            "'bad.csv' line 3: row has 3 fields, expected 2 (one per header column)");
  EXPECT_EQ(error_of("a,b\n1,2\n3\n"),
            "'bad.csv' line 3: row has 1 fields, expected 2 (one per header column)");
  EXPECT_EQ(error_of("a,b\n1,2\n3,abc\n"),
            "'bad.csv' line 3, column 2 'b': expected a number, got 'abc'");
  EXPECT_EQ(error_of("a,b\n1,2x\n"), "'bad.csv' line 2, column 2 'b': expected a number, got '2x'");
  EXPECT_EQ(error_of("a,b\n1,\n"),
            "'bad.csv' line 2, column 2 'b': empty field, expected a number");
  EXPECT_EQ(error_of("a,b\nnan,1\n"),
            "'bad.csv' line 2, column 1 'a': value 'nan' is not finite (NaN/Inf are not allowed)");
  EXPECT_EQ(error_of("a,b\n1,-inf\n"),
            "'bad.csv' line 2, column 2 'b': value '-inf' is not finite (NaN/Inf are not allowed)");
  EXPECT_EQ(error_of("1,2\n3,4\n"),
            "'bad.csv' line 1: expected a header line of column names, found numbers (add a header "
            "such as x1,x2,...)");
  EXPECT_EQ(error_of("a,a\n1,2\n"), "'bad.csv' line 1: duplicate column name 'a' in the header");
  EXPECT_EQ(
      error_of("a,,c\n1,2,3\n"),
      "'bad.csv' line 1: header column 2 has no name (expected a header line of column names)");
  EXPECT_EQ(error_of("\n\na,b\n\n1,2\n\n3,oops\n"),
            "'bad.csv' line 7, column 2 'b': expected a number, got 'oops'");
}

TEST(Csv, MissingFileIsReported) {
  EXPECT_THROW(
      {
        try {
          io::scan_csv("/nonexistent/x.csv");
        } catch (const Error& e) {
          EXPECT_STREQ(e.what(), "cannot open '/nonexistent/x.csv': No such file or directory");
          throw;
        }
      },
      Error);
}
