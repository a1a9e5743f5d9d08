// Tests of read_manifest (manifest.hpp): each format read from the samples
// in testdata/, detection, and the one-line errors for invalid manifests.
#include "models/manifest.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace haul::models {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string read_testdata(std::string_view relative) {
  const std::string path = std::string(HAUL_MODELS_TESTDATA) + "/" + std::string(relative);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The sample's file name (the label errors name) and its read.
Result<Manifest> read_sample(std::string_view relative) {
  const std::string_view name = relative.substr(relative.rfind('/') + 1);
  return read_manifest(read_testdata(relative), name);
}

// The message of a read that must fail.
std::string error_of(const Result<Manifest>& read) {
  EXPECT_FALSE(read.has_value());
  if (read) return {};
  EXPECT_EQ(read.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(read.error().message.find('\n'), std::string::npos) << "one line";
  return read.error().message;
}

std::string error_of_sample(std::string_view relative) { return error_of(read_sample(relative)); }

ModelFile file(std::string source, std::string path) {
  ModelFile out;
  out.source = std::move(source);
  out.path = std::move(path);
  return out;
}

// ---- haul's own manifest ----

TEST(HaulManifest, ReadsModelsOfOneAndSeveralFiles) {
  const auto manifest = read_sample("haul/valid/studio.json");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->format, ManifestFormat::kHaul);
  EXPECT_EQ(manifest->name, "studio workstation");
  EXPECT_THAT(manifest->notices, IsEmpty());
  ASSERT_EQ(manifest->models.size(), 4U);

  // The three-repo model of seed 004: one model, three files.
  const Model& turbo = manifest->models[0];
  EXPECT_EQ(turbo.id, "z-image-turbo");
  EXPECT_EQ(turbo.name, "Z-Image Turbo (GGUF)");
  EXPECT_EQ(turbo.group, "diffusion_models");
  ASSERT_EQ(turbo.files.size(), 3U);
  EXPECT_EQ(turbo.files[0].source, "hf://leejet/Z-Image-Turbo-GGUF/z_image_turbo-Q8_0.gguf");
  EXPECT_EQ(turbo.files[0].path, "z_image_turbo-Q8_0.gguf");  // defaults to the source's name
  EXPECT_EQ(turbo.files[0].size, 7220000000U);
  EXPECT_EQ(turbo.files[1].sha256,
            "afc8e28272cd15db3919bacdb6918ce9c1ed22e96cb12c4d5ed0fba823529e38");  // lower-cased
  EXPECT_EQ(turbo.files[0].group, "") << "the model's own folder";
  EXPECT_EQ(turbo.files[1].group, "vae") << "each file may have its own folder";
  EXPECT_EQ(group_of(turbo, turbo.files[1]), "vae");
  EXPECT_EQ(group_of(turbo, turbo.files[0]), "diffusion_models");
  EXPECT_EQ(turbo.files[2].group, "text_encoders");
  EXPECT_EQ(turbo.files[2].path, "Qwen3-4B-Instruct-2507-Q8_0.gguf");
  EXPECT_EQ(turbo.files[2].size, std::nullopt);

  // The one-file form; the id defaults to group:name.
  const Model& juggernaut = manifest->models[1];
  EXPECT_EQ(juggernaut.id, "checkpoints:juggernaut");
  ASSERT_EQ(juggernaut.files.size(), 1U);
  EXPECT_EQ(juggernaut.files[0].path, "sdxl/juggernautXL_v9.safetensors");
  EXPECT_THAT(juggernaut.files[0].symlinks,
              ElementsAre("/workspace/forge/models/Stable-diffusion/juggernautXL_v9.safetensors"));

  EXPECT_EQ(manifest->models[2].files[0].path, "add_detail.safetensors");  // from the s3 key
  EXPECT_THAT(manifest->models[2].files[0].symlinks, ElementsAre("sd15/add_detail.safetensors"));
  EXPECT_EQ(manifest->models[3].files[0].path, "4x-UltraSharp.pth");  // from the URL
}

TEST(HaulManifest, EmptyListIsAManifest) {
  const auto manifest = read_sample("haul/valid/empty.json");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_THAT(manifest->models, IsEmpty());
}

TEST(HaulManifest, NamesTheEntryAndFieldOfEachError) {
  EXPECT_EQ(error_of_sample("haul/invalid/bad_sha256.json"),
            "bad_sha256.json: models[2] (\"juggernaut\"): files[0].sha256: expected 64 hex "
            "digits, got \"abc\"");
  EXPECT_EQ(error_of_sample("haul/invalid/absolute_path.json"),
            "absolute_path.json: models[0] (\"sneaky\"): path: expected a relative path, got "
            "\"/etc/cron.d/x\"");
  EXPECT_EQ(error_of_sample("haul/invalid/dotdot_path.json"),
            "dotdot_path.json: models[1] (\"climber\"): files[0].path: expected a relative path "
            "(no \"..\", \".\" or empty segments, no backslashes), got \"sdxl/../../../.bashrc\"");
  EXPECT_EQ(error_of_sample("haul/invalid/dotdot_group.json"),
            "dotdot_group.json: models[0] (\"outside\"): group: expected a relative folder (no "
            "\"..\", \".\" or empty segments, no backslashes), got \"../outside\"");
  EXPECT_EQ(error_of_sample("haul/invalid/dotdot_symlink.json"),
            "dotdot_symlink.json: models[0] (\"vae\"): symlinks[0]: expected a relative or "
            "absolute path (no \"..\", \".\" or empty segments, no backslashes), got "
            "\"../../vae.safetensors\"");
  EXPECT_EQ(error_of_sample("haul/invalid/size_string.json"),
            "size_string.json: models[0] (\"sdxl\"): files[0].size: expected a non-negative "
            "integer, got \"6.9GB\"");
  EXPECT_EQ(error_of_sample("haul/invalid/models_object.json"),
            "models_object.json: models: expected an array, got an object");
  EXPECT_EQ(error_of_sample("haul/invalid/name_number.json"),
            "name_number.json: models[0]: name: expected a string, got 12");
  EXPECT_EQ(error_of_sample("haul/invalid/unknown_key.json"),
            "unknown_key.json: models[0] (\"sdxl\"): files[0].sha265: unknown key (expected "
            "source, path, size, sha256, symlinks or group)");
  EXPECT_EQ(error_of_sample("haul/invalid/bad_source.json"),
            "bad_source.json: models[0] (\"old\"): source: expected a haul source (an http(s) "
            "URL, hf://, s3:// or a CivitAI AIR), got \"ftp://example.com/old.safetensors\"");
  EXPECT_EQ(error_of_sample("haul/invalid/no_files.json"),
            "no_files.json: models[0] (\"nothing\"): files: empty");
  EXPECT_EQ(error_of_sample("haul/invalid/version_2.json"),
            "version_2.json: haul_manifest: expected 1 (the only version so far), got 2");
  // The name holds the control character, so the entry is named by index only.
  EXPECT_EQ(error_of_sample("haul/invalid/control_char.json"),
            "control_char.json: models[0]: name: expected no control characters, got "
            "\"bell\\u0007\"");
}

TEST(HaulManifest, RefusesWhatNoSingleEntryShows) {
  EXPECT_EQ(error_of_sample("haul/invalid_beyond_schema/duplicate_id.json"),
            "duplicate_id.json: models[1] (\"flux-schnell\"): duplicate id \"flux\" (also "
            "models[0] (\"flux-dev\"))");
  EXPECT_EQ(error_of_sample("haul/invalid_beyond_schema/duplicate_destination.json"),
            "duplicate_destination.json: models[1] (\"clip-b\"): files[0].path: destination "
            "\"text_encoders/clip_l.safetensors\" is also models[0] (\"clip-a\") files[0].path");
  EXPECT_EQ(error_of_sample("haul/invalid_beyond_schema/civitai_without_path.json"),
            "civitai_without_path.json: models[0] (\"juggernaut\"): path: missing, and the "
            "source names no file to default to");
}

TEST(HaulManifest, OneFileKeysBesideFilesAreRefused) {
  EXPECT_EQ(error_of(read_manifest(R"({"haul_manifest": 1, "models": [{"name": "a",
      "group": "loras", "sha256": "", "files": [{"source": "https://x.test/a.bin"}]}]})",
                                   "m.json")),
            "m.json: models[0] (\"a\"): sha256: not allowed beside \"files\" (put it in a file "
            "entry)");
}

// ---- seed 002's model config ----

TEST(Seed002Config, ReadsEachEntryAsAOneFileModel) {
  const auto manifest = read_sample("seed002/models.json");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->format, ManifestFormat::kSeed002);
  ASSERT_EQ(manifest->models.size(), 3U);
  const Model& first = manifest->models[0];
  EXPECT_EQ(first.id, "checkpoints:juggernautXL_v9.safetensors");
  EXPECT_EQ(first.group, "checkpoints");
  ModelFile expected = file("s3://studio-models/checkpoints/juggernautXL_v9.safetensors",
                            "/workspace/ComfyUI/models/checkpoints/juggernautXL_v9.safetensors");
  expected.size = 7105348188U;
  EXPECT_THAT(first.files, ElementsAre(expected));
  // An empty or absent localPath: modelName inside the group's folder; a
  // size written as a string of digits is read.
  EXPECT_EQ(manifest->models[1].files[0].path, "add_detail.safetensors");
  EXPECT_EQ(manifest->models[1].files[0].size, 151108832U);
  EXPECT_EQ(manifest->models[2].files[0].path, "sdxl_vae.safetensors");
}

TEST(Seed002Config, ReadsTheModelsObjectForm) {
  const auto manifest = read_manifest(
      R"({"models": [{"directoryGroup": "vae", "modelName": "ae.safetensors",
          "originalS3Path": "s3://bucket/vae/ae.safetensors", "modelSize": 1}]})",
      "config.json");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->format, ManifestFormat::kSeed002);
  EXPECT_EQ(manifest->models[0].id, "vae:ae.safetensors");
}

TEST(Seed002Config, NamesTheEntryAndField) {
  EXPECT_EQ(error_of(read_manifest(R"([{"directoryGroup": "loras", "modelName": "a.safetensors",
      "originalS3Path": "https://x.test/a", "modelSize": 1}])",
                                   "config.json")),
            "config.json: [0] (\"a.safetensors\"): originalS3Path: expected an s3:// URL, got "
            "\"https://x.test/a\"");
  EXPECT_EQ(error_of(read_manifest(R"([{"directoryGroup": "loras", "modelName": "a.safetensors",
      "originalS3Path": "s3://bucket/loras/", "modelSize": 1}])",
                                   "config.json")),
            "config.json: [0] (\"a.safetensors\"): originalS3Path: expected s3://BUCKET/KEY of "
            "one object, got \"s3://bucket/loras/\"");
  EXPECT_EQ(error_of(read_manifest(R"([{"directoryGroup": "loras", "modelName": "a.safetensors",
      "originalS3Path": "s3://bucket/a", "localPath": "/models/../etc/a", "modelSize": 1}])",
                                   "config.json")),
            "config.json: [0] (\"a.safetensors\"): localPath: expected a relative or absolute "
            "path (no \"..\", \".\" or empty segments, no backslashes), got \"/models/../etc/a\"");
  EXPECT_EQ(error_of(read_manifest(R"([{"directoryGroup": "loras", "modelName": "a.safetensors",
      "originalS3Path": "s3://bucket/a", "modelSize": -5}])",
                                   "config.json")),
            "config.json: [0] (\"a.safetensors\"): modelSize: expected a non-negative integer, "
            "got -5");
  EXPECT_EQ(
      error_of(read_manifest(R"([{"directoryGroup": "loras", "modelName": "a.safetensors",
      "originalS3Path": "s3://bucket/a", "localPath": "/m/a.safetensors"},
      {"directoryGroup": "loras", "modelName": "b.safetensors",
      "originalS3Path": "s3://bucket/b", "localPath": "/m/a.safetensors"}])",
                             "config.json")),
      "config.json: [1] (\"b.safetensors\"): localPath: destination \"/m/a.safetensors\" is also "
      "[0] (\"a.safetensors\") localPath");
}

// ---- ComfyUI workflows ----

TEST(ComfyUiWorkflow, ReadsNodeAndTopLevelModelsAndReportsFilesWithoutSource) {
  const auto manifest = read_sample("comfyui/flux_dev_lora.json");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->format, ManifestFormat::kComfyUiWorkflow);
  ASSERT_EQ(manifest->models.size(), 5U);

  const Model& checkpoint = manifest->models[0];
  EXPECT_EQ(checkpoint.id, "checkpoints:flux1-dev-fp8.safetensors");
  EXPECT_EQ(checkpoint.group, "checkpoints");
  EXPECT_THAT(checkpoint.files,
              ElementsAre(file("https://huggingface.co/Comfy-Org/flux1-dev/resolve/main/"
                               "flux1-dev-fp8.safetensors?download=true",
                               "flux1-dev-fp8.safetensors")));

  // DualCLIPLoader: both entries of properties.models; the top-level list
  // names clip_l again, which stays one model.
  EXPECT_EQ(manifest->models[1].id, "text_encoders:clip_l.safetensors");
  const Model& t5 = manifest->models[2];
  EXPECT_EQ(t5.id, "text_encoders:t5xxl_fp8_e4m3fn_scaled.safetensors");
  EXPECT_EQ(t5.files[0].sha256, "a0b1c2d3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccddeeff");

  const Model& vae = manifest->models[3];  // the top-level "models" list
  EXPECT_EQ(vae.id, "vae:ae.safetensors");
  EXPECT_EQ(vae.files[0].source,
            "https://huggingface.co/black-forest-labs/FLUX.1-schnell/resolve/main/ae.safetensors");

  // The LoraLoader names a file no entry gives a URL for: a model without a
  // source (presence can still find it) and a notice. Its Windows path
  // reads with '/'. The bypassed LoraLoader (mode 4) counts for nothing.
  const Model& lora = manifest->models[4];
  EXPECT_EQ(lora.id, "loras:flux/aesthetic_anime_v1.safetensors");
  EXPECT_EQ(lora.group, "loras");
  EXPECT_THAT(lora.files, ElementsAre(file("", "flux/aesthetic_anime_v1.safetensors")));
  EXPECT_THAT(manifest->notices,
              ElementsAre(ManifestNotice{"node 10 (LoraLoader)",
                                         "flux/aesthetic_anime_v1.safetensors: no source known"}));
}

TEST(ComfyUiWorkflow, ApiFormatGivesModelsWithoutSource) {
  const auto manifest = read_sample("comfyui/sdxl_api.json");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->format, ManifestFormat::kComfyUiWorkflow);
  ASSERT_EQ(manifest->models.size(), 3U);
  EXPECT_EQ(manifest->models[0].id, "checkpoints:sd_xl_base_1.0.safetensors");
  EXPECT_EQ(manifest->models[1].id, "loras:SDXL/juggernaut_detail.safetensors");
  EXPECT_EQ(manifest->models[2].id, "vae:sdxl_vae.safetensors");
  EXPECT_EQ(manifest->notices.size(), 3U);
  EXPECT_EQ(manifest->notices[0].where, "node 4 (CheckpointLoaderSimple)");
}

TEST(ComfyUiWorkflow, NamesTheNodeAndField) {
  EXPECT_EQ(error_of(read_manifest(R"({"nodes": [{"id": 7, "type": "CheckpointLoaderSimple",
      "properties": {"models": [{"name": "../x.safetensors", "url": "https://x.test/x",
      "directory": "checkpoints"}]}}]})",
                                   "flow.json")),
            "flow.json: node 7 (CheckpointLoaderSimple): properties.models[0].name: expected a "
            "relative path (no \"..\", \".\" or empty segments, no backslashes), got "
            "\"../x.safetensors\"");
  EXPECT_EQ(error_of(read_manifest(R"({"nodes": [], "models": [{"name": "a.safetensors",
      "url": "https://x.test/a", "directory": "vae", "hash": "12", "hash_type": "sha256"}]})",
                                   "flow.json")),
            "flow.json: models[0] (\"a.safetensors\"): hash: expected 64 hex digits, got \"12\"");
  EXPECT_EQ(error_of(read_manifest(R"({"nodes": [{"id": 3, "type": "UNETLoader",
      "properties": {"models": [{"name": "a.gguf", "directory": "diffusion_models"}]}}]})",
                                   "flow.json")),
            "flow.json: node 3 (UNETLoader): properties.models[0].url: missing");
  EXPECT_EQ(error_of(read_manifest(R"({"nodes": [{"id": 3, "type": "UNETLoader",
      "properties": {"models": {"name": "a.gguf"}}}]})",
                                   "flow.json")),
            "flow.json: node 3 (UNETLoader): properties.models: expected an array, got an object");
}

// ---- ComfyUI-Manager's model-list.json ----

TEST(ManagerModelList, FollowsTheManagersFolders) {
  const auto manifest = read_sample("manager/model-list.json");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->format, ManifestFormat::kManagerModelList);
  ASSERT_EQ(manifest->models.size(), 5U);
  const Model& taef1 = manifest->models[0];
  EXPECT_EQ(taef1.id, "vae_approx:taef1_decoder.pth");
  EXPECT_EQ(taef1.name, "TAEF1 Decoder");
  EXPECT_EQ(taef1.group, "vae_approx");
  EXPECT_THAT(taef1.files,
              ElementsAre(file("https://github.com/madebyollin/taesd/raw/main/taef1_decoder.pth",
                               "taef1_decoder.pth")));
  EXPECT_EQ(taef1.files[0].size, std::nullopt);            // "4.71MB" is a rounded display string
  EXPECT_EQ(manifest->models[1].group, "checkpoints");     // "default" + type checkpoint
  EXPECT_EQ(manifest->models[2].group, "upscale_models");  // "default" + type upscale
  EXPECT_EQ(manifest->models[3].group, "text_encoders/flux");
  EXPECT_EQ(manifest->models[4].group, "etc");  // save_path "../outside"

  ASSERT_EQ(manifest->notices.size(), 4U);
  EXPECT_EQ(manifest->notices[0].where, "models[4] (\"Some odd folder\")");
  EXPECT_EQ(manifest->notices[1].message,
            "<huggingface>: a whole repository, not a model file: skipped");
  EXPECT_EQ(manifest->notices[2].message,
            "save_path \"custom_nodes/ComfyUI_IPAdapter_plus/models\" is inside a custom node, "
            "not the models folder: skipped");
  EXPECT_EQ(manifest->notices[3].message,
            "\"checkpoints/sd_xl_base_1.0.safetensors\": also models[1] "
            "(\"sd_xl_base_1.0.safetensors\"): skipped");
}

// Regression (fuzzing): an empty "name" made a model without a name.
TEST(ManagerModelList, AnEmptyNameIsTheFilesName) {
  const auto manifest = read_manifest(R"({"models": [{"name": "", "type": "lora",
      "save_path": "default", "filename": "y.safetensors", "url": "https://x.test/y"}]})",
                                      "model-list.json");
  ASSERT_TRUE(manifest) << manifest.error().message;
  ASSERT_EQ(manifest->models.size(), 1U);
  EXPECT_EQ(manifest->models[0].name, "y.safetensors");
}

TEST(ManagerModelList, NamesTheEntryAndField) {
  EXPECT_EQ(error_of(read_manifest(R"({"models": [{"name": "x", "type": "lora",
      "save_path": "default", "filename": "x.safetensors"}]})",
                                   "model-list.json")),
            "model-list.json: models[0] (\"x\"): url: missing");
  EXPECT_EQ(error_of(read_manifest(R"({"models": [{"name": "x", "type": "lora",
      "save_path": "loras//sd15", "filename": "x.safetensors", "url": "https://x.test/x"}]})",
                                   "model-list.json")),
            "model-list.json: models[0] (\"x\"): save_path: expected a relative folder (no "
            "\"..\", \".\" or empty segments, no backslashes), got \"loras//sd15\"");
}

// ---- detection and the document as a whole ----

TEST(ReadManifest, DetectsEachFormat) {
  EXPECT_EQ(read_sample("haul/valid/studio.json")->format, ManifestFormat::kHaul);
  EXPECT_EQ(read_sample("seed002/models.json")->format, ManifestFormat::kSeed002);
  EXPECT_EQ(read_sample("comfyui/flux_dev_lora.json")->format, ManifestFormat::kComfyUiWorkflow);
  EXPECT_EQ(read_sample("comfyui/sdxl_api.json")->format, ManifestFormat::kComfyUiWorkflow);
  EXPECT_EQ(read_sample("manager/model-list.json")->format, ManifestFormat::kManagerModelList);
}

TEST(ReadManifest, RefusesOtherDocuments) {
  EXPECT_EQ(error_of(read_manifest(R"({"hello": "world"})", "x.json")),
            "x.json: not a haul manifest, seed 002 model config, ComfyUI workflow or "
            "model-list.json");
  EXPECT_EQ(error_of(read_manifest("12", "x.json")),
            "x.json: not a haul manifest, seed 002 model config, ComfyUI workflow or "
            "model-list.json");
}

TEST(ReadManifest, NotJsonNamesThePosition) {
  // '}' is byte 35, the 14th of line 2.
  EXPECT_EQ(error_of(read_manifest("{\"haul_manifest\": 1,\n  \"models\": [}", "flow.json")),
            "flow.json: not JSON: syntax error at byte 35 (line 2, column 14)");
  EXPECT_EQ(error_of(read_manifest("{\"models\": [", "flow.json")),
            "flow.json: not JSON: unexpected end at byte 13 (line 1, column 13)");
  EXPECT_EQ(error_of(read_manifest("  \n", "flow.json")), "flow.json: not JSON: empty");
}

TEST(ReadManifest, LabelWithControlCharactersStaysOneLine) {
  EXPECT_EQ(error_of(read_manifest("[", "a\nb.json")),
            "a?b.json: not JSON: unexpected end at byte 2 (line 1, column 2)");
}

TEST(ReadManifestAs, ReadsTheGivenFormatWithoutDetection) {
  const std::string text = read_testdata("seed002/models.json");
  EXPECT_TRUE(read_manifest_as(ManifestFormat::kSeed002, text, "models.json"));
  EXPECT_EQ(error_of(read_manifest_as(ManifestFormat::kHaul, text, "models.json")),
            "models.json: not a haul manifest: expected an object with \"haul_manifest\": 1");
  EXPECT_EQ(error_of(read_manifest_as(ManifestFormat::kComfyUiWorkflow, text, "models.json")),
            "models.json: not a ComfyUI workflow: expected an object with a \"nodes\" array (UI "
            "format) or of nodes with a \"class_type\" (API format)");
}

TEST(ParseManifestFormat, AcceptsEachNameInAnyCase) {
  for (ManifestFormat format :
       {ManifestFormat::kHaul, ManifestFormat::kSeed002, ManifestFormat::kComfyUiWorkflow,
        ManifestFormat::kManagerModelList}) {
    EXPECT_EQ(parse_manifest_format(manifest_format_name(format)), format);
  }
  EXPECT_EQ(parse_manifest_format("ComfyUI_Workflow"), ManifestFormat::kComfyUiWorkflow);
  EXPECT_EQ(parse_manifest_format("yaml"), std::nullopt);
  EXPECT_EQ(parse_manifest_format(""), std::nullopt);
}

}  // namespace
}  // namespace haul::models
