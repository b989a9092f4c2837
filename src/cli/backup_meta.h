#pragma once
// backup.json as natscli writes it (jsm.go v0.0.35, createSnapshot): json.MarshalIndent(map{
// "config": api.StreamConfig, "state": api.StreamState}, "", "  "). The snapshot answer is
// decoded into jsm.go's structs and encoded again, so the file has their field order (not
// the answer's, not alphabetical), drops what they lack, writes their zero values for
// missing fields without omitempty, leaves out empty omitempty ones, and escapes <, >, & as
// Go does (\u003c, \u003e, \u0026). Same bytes as natscli's for the same answer.
#include <string>

#include <nlohmann/json.hpp>

namespace nats::cli {

std::string backup_meta_json(const nlohmann::json& config, const nlohmann::json& state);

}  // namespace nats::cli
