// What a CivitAI source string names: a model, a model version, and optionally
// which of the version's files. Parsed from the URL forms people paste
// (model pages, download links, version pages) and from AIR URNs. Pure: no
// network; the resolver turns a CivitaiRef into API calls.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace haul::sources::civitai {

struct CivitaiRef {
  // At least one of the two is set. A model id alone means "the model's
  // latest published version" (see latest_version_id in civitai_api.hpp).
  std::optional<std::uint64_t> model_id;
  std::optional<std::uint64_t> version_id;
  // The AIR ".format" suffix as written ("safetensors"), "" when absent.
  // Informational: CivitAI's own file metadata spells formats differently
  // ("SafeTensor"), so it does not take part in choosing the file.
  std::string format;
  // The AIR type segment, lower-cased ("lora", "checkpoint"), "" when the
  // source was a URL or the AIR had no type.
  std::string air_type;
  // File selectors from /api/download/models/VID?type=..&format=..&size=..
  // &fp=..&quantType=..&fileId=.. (percent-decoded, '+' read as a space), and
  // "fileId" from an AIR "+<fileId>" suffix. Never holds "token".
  std::map<std::string, std::string> download_query;
};

// Accepts, with or without http(s)://, on civitai.com or any subdomain of it:
//   civitai.com/models/MID[/slug][?modelVersionId=VID]
//   civitai.com/api/download/models/VID[?type=..&format=..&size=..&fp=..&fileId=..]
//   civitai.com/model-versions/VID
//   civitai.com/api/v1/model-versions/VID, civitai.com/api/v1/models/MID
// and AIRs, [urn:][air:][{ecosystem}:][{type}:]civitai:{mid}[@{vid}][+{fileId}][.{format}]
// (the optional parts of CivitAI's AIR regex), case-insensitive prefixes.
// A "token" query parameter is dropped, and error messages show the source
// with secrets redacted.
// Errors (kInvalidArgument, one line, naming the source):
//   "civitai source 'x': no model or version id", an AIR from another source
//   ("... AIR source 'huggingface' is not civitai"), a non-numeric or zero id,
//   another host, an unknown path.
Result<CivitaiRef> parse_civitai_source(std::string_view source);

}  // namespace haul::sources::civitai
