// Sync planning: each mode, selections by name and by entry, present files
// kept out of the transfer, live files not queued twice, links made absolute.
#include "models/sync_plan.hpp"

#include <gtest/gtest.h>

namespace haul::models {
namespace {

Model model(std::string group, std::string name, std::vector<ModelFile> files) {
  Model m;
  m.group = std::move(group);
  m.name = std::move(name);
  m.id = model_id(m.group, m.name);
  m.files = std::move(files);
  return m;
}

ModelFile file(std::string source, std::string path, std::uint64_t size = 10) {
  ModelFile f;
  f.source = std::move(source);
  f.path = std::move(path);
  f.size = size;
  return f;
}

FileCheck at(std::string path, Presence state) {
  FileCheck check;
  check.path = std::move(path);
  check.state = state;
  if (state == Presence::kPresent) check.size_on_disk = 10;
  return check;
}

ModelCheck checked(const Model& m, std::vector<FileCheck> files) {
  ModelCheck check;
  check.id = m.id;
  std::vector<Presence> states;
  for (const FileCheck& f : files) states.push_back(f.state);
  check.state = combine_presence(states);
  check.files = std::move(files);
  return check;
}

class SyncPlanTest : public ::testing::Test {
 protected:
  SyncPlanTest() {
    present = model("checkpoints", "sdxl", {file("https://h/sdxl", "sdxl.safetensors")});
    turbo = model("diffusion_models", "z-image-turbo",
                  {file("hf://leejet/Z-Image-Turbo-GGUF/z.gguf", "z.gguf"),
                   file("hf://black-forest-labs/FLUX.1-schnell/ae.safetensors", "ae.safetensors")});
    turbo.files[1].symlinks = {"vae/ae.safetensors", "/srv/ui2/vae/ae.safetensors"};
    lora = model("loras", "detail", {file("https://h/detail", "detail.safetensors")});
    models = {present, turbo, lora};
    checks = {checked(present, {at("/m/checkpoints/sdxl.safetensors", Presence::kPresent)}),
              checked(turbo, {at("/m/diffusion_models/z.gguf", Presence::kPresent),
                              at("/m/diffusion_models/ae.safetensors", Presence::kCorrupt)}),
              checked(lora, {at("/m/loras/detail.safetensors", Presence::kPartial)})};
    context.manifest = "flux";
    context.roots = {"/m", "/other"};
  }

  Model present, turbo, lora;
  std::vector<Model> models;
  std::vector<ModelCheck> checks;
  SyncContext context;
};

TEST_F(SyncPlanTest, MissingQueuesOnlyModelsNotPresentOneJobEachWithAnItemPerFile) {
  const SyncPlan plan = plan_sync(models, checks, SyncMode::kMissing, context);
  ASSERT_EQ(plan.requests.size(), 2u);
  ASSERT_EQ(plan.skipped.size(), 1u);
  EXPECT_EQ(plan.skipped[0].model_id, "checkpoints:sdxl");
  EXPECT_EQ(plan.skipped[0].reason, "present");
  const core::JobRequest& request = plan.requests[0];
  EXPECT_EQ(request.name, "z-image-turbo");
  EXPECT_EQ(request.group, "diffusion_models");
  EXPECT_EQ(request.labels.at("model"), "diffusion_models:z-image-turbo");
  EXPECT_EQ(request.labels.at("manifest"), "flux");
  ASSERT_EQ(request.sources.size(), 2u);
  ASSERT_EQ(request.files.size(), 2u);
  EXPECT_TRUE(request.files[0].present) << "a present file is not fetched again";
  EXPECT_FALSE(request.files[1].present) << "a corrupt one is";
  EXPECT_EQ(request.files[1].path, "/m/diffusion_models/ae.safetensors");
  EXPECT_EQ(request.files[1].links,
            (std::vector<std::string>{"/m/vae/ae.safetensors", "/srv/ui2/vae/ae.safetensors"}));
  EXPECT_EQ(plan.requests[1].files[0].path, "/m/loras/detail.safetensors") << "partial: resumed";
}

TEST_F(SyncPlanTest, AllQueuesEveryModelPresentFilesIncluded) {
  const SyncPlan plan = plan_sync(models, checks, SyncMode::kAll, context);
  ASSERT_EQ(plan.requests.size(), 3u);
  EXPECT_TRUE(plan.requests[0].files[0].present);
  EXPECT_EQ(plan.requests[0].files[0].size, 10u);
}

TEST_F(SyncPlanTest, AModelALiveJobWritesIsNotQueuedAgain) {
  context.live_paths = {"/m/loras/detail.safetensors"};
  const SyncPlan plan = plan_sync(models, checks, SyncMode::kMissing, context);
  ASSERT_EQ(plan.requests.size(), 1u);
  EXPECT_EQ(plan.skipped.back().model_id, "loras:detail");
  EXPECT_EQ(plan.skipped.back().reason, "already downloading");
}

TEST_F(SyncPlanTest, AFileWithoutASourceSkipsItsModelUnlessItIsPresent) {
  Model loader = model("checkpoints", "local-only", {file("", "local.safetensors")});
  const std::vector<Model> two = {loader, loader};
  const std::vector<ModelCheck> checks2 = {
      checked(loader, {at("/m/checkpoints/local.safetensors", Presence::kMissing)}),
      checked(loader, {at("/m/checkpoints/local.safetensors", Presence::kPresent)})};
  const SyncPlan plan = plan_sync(two, checks2, SyncMode::kAll, context);
  EXPECT_TRUE(plan.requests.empty());
  ASSERT_EQ(plan.skipped.size(), 2u);
  EXPECT_EQ(plan.skipped[0].reason, "file 0 (local.safetensors): no source known");
  EXPECT_EQ(plan.skipped[1].reason, "present");
}

TEST_F(SyncPlanTest, ListAndSingleSelectByNameIdOrEntry) {
  Manifest manifest;
  manifest.models = models;
  auto by_name = select_models(manifest, SyncMode::kList, R"(["detail", "checkpoints:sdxl"])");
  ASSERT_TRUE(by_name) << by_name.error().message;
  ASSERT_EQ(by_name->size(), 2u);
  EXPECT_EQ((*by_name)[0].id, "loras:detail");
  auto single = select_models(manifest, SyncMode::kSingle,
                              R"({"directoryGroup":"checkpoints","modelName":"m.safetensors",
                                  "originalS3Path":"s3://bucket/m.safetensors",
                                  "localPath":"/srv/m.safetensors","modelSize":1234567})");
  ASSERT_TRUE(single) << single.error().message;
  ASSERT_EQ(single->size(), 1u);
  EXPECT_EQ((*single)[0].files.at(0).source, "s3://bucket/m.safetensors");
  EXPECT_EQ((*single)[0].files.at(0).size, 1234567u);

  auto unknown = select_models(manifest, SyncMode::kList, R"(["detail", "nope"])");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "models[1]: no model named 'nope' in the manifest");
  EXPECT_FALSE(select_models(manifest, SyncMode::kList, R"({"a":1})"));
  EXPECT_FALSE(select_models(manifest, SyncMode::kSingle, R"([1])"));
  EXPECT_FALSE(select_models(manifest, SyncMode::kList, "not json"));
  EXPECT_EQ(select_models(manifest, SyncMode::kAll, "")->size(), 3u);
}

TEST(SyncMode, NamesRoundTrip) {
  for (const char* name : {"all", "missing", "list", "single"})
    EXPECT_EQ(sync_mode_name(*parse_sync_mode(name)), name);
  EXPECT_FALSE(parse_sync_mode("some"));
}

}  // namespace
}  // namespace haul::models
