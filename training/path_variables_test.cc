#include "training/path_variables.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace stratus::training {
namespace {

TEST(PathVariablesTest, ExpandsVariablesDefaultsAndHome) {
  setenv("STRATUS_PV_SET", "/data", 1);
  setenv("STRATUS_PV_EMPTY", "", 1);
  unsetenv("STRATUS_PV_UNSET");
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(*ExpandPathVariables("${STRATUS_PV_SET}/x"), "/data/x");
  EXPECT_EQ(*ExpandPathVariables("${STRATUS_PV_UNSET:-ckpt}/y"), "ckpt/y");
  EXPECT_EQ(*ExpandPathVariables("${STRATUS_PV_EMPTY:-d}"), "d");  // empty counts as unset
  EXPECT_EQ(*ExpandPathVariables("${STRATUS_PV_SET:-d}"), "/data");
  EXPECT_EQ(*ExpandPathVariables("~/models"), "/home/u/models");
  EXPECT_EQ(*ExpandPathVariables("~"), "/home/u");
  EXPECT_EQ(*ExpandPathVariables("a~b"), "a~b");
  EXPECT_EQ(*ExpandPathVariables("plain"), "plain");
}

TEST(PathVariablesTest, RefusesWhatItCannotExpand) {
  unsetenv("STRATUS_PV_UNSET");
  auto unset = ExpandPathVariables("${STRATUS_PV_UNSET}/x");
  ASSERT_FALSE(unset.ok());
  EXPECT_THAT(unset.status().message(), ::testing::HasSubstr("STRATUS_PV_UNSET is not set"));
  auto open = ExpandPathVariables("${STRATUS_PV_UNSET");
  ASSERT_FALSE(open.ok());
  EXPECT_THAT(open.status().message(), ::testing::HasSubstr("unclosed ${"));
}

}  // namespace
}  // namespace stratus::training
