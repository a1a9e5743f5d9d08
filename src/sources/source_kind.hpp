// Which provider a source string belongs to, decided from its text alone.
// Pure; the resolvers parse the details.
#pragma once

#include <string_view>

namespace haul::sources {

enum class SourceKind {
  kUrl,          // any other http(s) URL, fetched as is
  kHuggingFace,  // hf://... or a huggingface.co (or HF_ENDPOINT) repo, /resolve/ or /blob/ URL
  kCivitai,      // civitai.com model or download URL, or an AIR URN
  kS3,           // s3://BUCKET/KEY or s3://BUCKET/PREFIX/
  kUnknown,      // none of these: the caller reports it
};

// `hf_endpoint` is HF_ENDPOINT (a mirror): URLs on its host and port count as
// Hugging Face too. Empty: only huggingface.co / hf.co.
SourceKind classify_source(std::string_view source, std::string_view hf_endpoint = {});

std::string_view source_kind_name(SourceKind kind);

}  // namespace haul::sources
