#include "services/sentiment/text/pii.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <utility>

namespace stratus::text {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

class PiiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = PiiScanner::Create({});
    ASSERT_TRUE(s.ok()) << s.status();
    scanner_ = std::move(*s);
  }
  // (type, covered text) of each entity; offsets are code points, so map back through them.
  std::vector<std::pair<std::string, std::string>> Found(const std::string& text) {
    std::u32string cps;
    std::vector<std::pair<std::string, std::string>> out;
    std::vector<size_t> starts;  // byte offset of each code point
    for (size_t i = 0; i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
    }
    starts.push_back(text.size());
    for (const PiiEntity& e : scanner_->Scan(text)) {
      EXPECT_LT(e.begin_offset, e.end_offset);
      EXPECT_GT(e.score, 0.5f);
      out.push_back({e.type, text.substr(starts[e.begin_offset],
                                         starts[e.end_offset] - starts[e.begin_offset])});
    }
    return out;
  }
  std::unique_ptr<PiiScanner> scanner_;
};

TEST(PiiValidatorsTest, Luhn) {
  EXPECT_TRUE(LuhnValid("4111 1111 1111 1111"));
  EXPECT_TRUE(LuhnValid("378282246310005"));
  EXPECT_FALSE(LuhnValid("4111 1111 1111 1112"));
}

TEST(PiiValidatorsTest, Iban) {
  EXPECT_TRUE(IbanValid("DE89 3704 0044 0532 0130 00"));
  EXPECT_TRUE(IbanValid("GB82WEST12345698765432"));
  EXPECT_FALSE(IbanValid("DE89 3704 0044 0532 0130 01"));  // checksum
  EXPECT_FALSE(IbanValid("DE89 3704 0044 0532 0130"));     // length
  EXPECT_FALSE(IbanValid("QQ89370400440532013000"));       // country
}

TEST_F(PiiTest, EachType) {
  EXPECT_THAT(Found("mail jane.doe+x@example.co.uk now"),
              ElementsAre(Pair("EMAIL", "jane.doe+x@example.co.uk")));
  EXPECT_THAT(
      Found("see https://example.com/a?b=1 (or www.example.org)."),
      ElementsAre(Pair("URL", "https://example.com/a?b=1"), Pair("URL", "www.example.org")));
  EXPECT_THAT(Found("call (415) 867-5309 or +44 20 7946 0958"),
              ElementsAre(Pair("PHONE", "(415) 867-5309"), Pair("PHONE", "+44 20 7946 0958")));
  EXPECT_THAT(Found("card 4111 1111 1111 1111 exp"),
              ElementsAre(Pair("CREDIT_DEBIT_NUMBER", "4111 1111 1111 1111")));
  EXPECT_THAT(
      Found("IBAN DE89 3704 0044 0532 0130 00 thanks"),
      ElementsAre(Pair("INTERNATIONAL_BANK_ACCOUNT_NUMBER", "DE89 3704 0044 0532 0130 00")));
  EXPECT_THAT(Found("from 192.168.10.254 and 2001:db8::8a2e:370:7334"),
              ElementsAre(Pair("IP_ADDRESS", "192.168.10.254"),
                          Pair("IP_ADDRESS", "2001:db8::8a2e:370:7334")));
  EXPECT_THAT(Found("nic 00:1A:2B:3C:4D:5E or 00-1a-2b-3c-4d-5e"),
              ElementsAre(Pair("MAC_ADDRESS", "00:1A:2B:3C:4D:5E"),
                          Pair("MAC_ADDRESS", "00-1a-2b-3c-4d-5e")));
  EXPECT_THAT(Found("key AKIAIOSFODNN7EXAMPLE leaked"),
              ElementsAre(Pair("AWS_ACCESS_KEY", "AKIAIOSFODNN7EXAMPLE")));
  EXPECT_THAT(Found("SSN 123-45-6789."), ElementsAre(Pair("SSN", "123-45-6789")));
  EXPECT_THAT(
      Found("on 2024-03-15T10:30:00Z, March 3, 2024 and 12/25/2023 at 2:30 pm"),
      ElementsAre(Pair("DATE_TIME", "2024-03-15T10:30:00Z"), Pair("DATE_TIME", "March 3, 2024"),
                  Pair("DATE_TIME", "12/25/2023"), Pair("DATE_TIME", "2:30 pm")));
}

TEST_F(PiiTest, ValidatorsRejectLookalikes) {
  EXPECT_THAT(Found("order 4111 1111 1111 1112 shipped"), IsEmpty());  // Luhn fails
  EXPECT_THAT(Found("DE89 3704 0044 0532 0130 01"), IsEmpty());        // mod 97 fails
  EXPECT_THAT(Found("version 1.2.3.4.5 and 999.1.1.1"), IsEmpty());
  EXPECT_THAT(Found("ssn 000-12-3456 or 666-12-3456 or 900-12-3456"), IsEmpty());
  EXPECT_THAT(Found("on 2024-02-30 at 25:61"), IsEmpty());
  EXPECT_THAT(Found("version 3.12.45 is out"), IsEmpty());  // d.m.yy would read it as a date
  EXPECT_THAT(Found("at 11:51 am."), ElementsAre(Pair("DATE_TIME", "11:51 am")));
  EXPECT_THAT(Found("at 7 a.m. and 15.03.2024"),
              ElementsAre(Pair("DATE_TIME", "7 a.m."), Pair("DATE_TIME", "15.03.2024")));
  EXPECT_THAT(Found("a@b nope@ and no.email@host"), IsEmpty());
  EXPECT_THAT(Found("plain words only, nothing to see"), IsEmpty());
}

TEST_F(PiiTest, OffsetsCountCodePoints) {
  const std::string text = "€€ 😀 bob@example.com";
  auto e = scanner_->Scan(text);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].begin_offset, 5);  // € € space 😀 space
  EXPECT_EQ(e[0].end_offset, 20);
}

TEST_F(PiiTest, PhoneAfterMultibyteText) {
  const std::string text = "Téléphone : +33 1 42 68 53 00";
  auto e = scanner_->Scan(text);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].type, "PHONE");
  EXPECT_EQ(e[0].begin_offset, 12);
  EXPECT_EQ(e[0].end_offset, 29);
}

TEST_F(PiiTest, OverlapsKeepTheHigherPriorityType) {
  // The URL holds an IP address and a date-like path; one entity, the URL.
  EXPECT_THAT(Found("http://10.0.0.1/2024-01-02/x"),
              ElementsAre(Pair("URL", "http://10.0.0.1/2024-01-02/x")));
}

TEST_F(PiiTest, AnyBytes) {
  EXPECT_THAT(Found(std::string("\xFF\xFE\x00 4111111111111111", 20)),
              ElementsAre(Pair("CREDIT_DEBIT_NUMBER", "4111111111111111")));
}

TEST(PiiScannerTest, UnknownRegionIsRefused) {
  EXPECT_FALSE(PiiScanner::Create({.default_region = "XX"}).ok());
}

}  // namespace
}  // namespace stratus::text
