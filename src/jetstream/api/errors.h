#pragma once
// The JetStream API errors as the reference defines them (server/errors.json, rendered in
// jetstream_errors_generated.go): HTTP-like code, err_code and description. Descriptions
// with placeholders ("{err}", "{seq}", ...) are filled by api_error(def, {{"{err}", text}}).
// Shared by the stream and consumer API handlers.
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace nats::jetstream {

struct ErrDef {
  int code;
  int err_code;
  const char* description;
};

struct ApiError {
  int code = 0;
  int err_code = 0;
  std::string description;
  bool empty() const { return code == 0; }
  // {"code":..,"err_code":..,"description":..} (the reference's ApiError field order).
  nlohmann::ordered_json to_json() const;
};

ApiError api_error(const ErrDef& def);
ApiError api_error(const ErrDef& def, std::initializer_list<std::pair<std::string_view, std::string_view>> args);
// Shorthand for the many "{err}" descriptions.
ApiError api_error(const ErrDef& def, std::string_view err);

namespace err {
// General.
inline constexpr ErrDef AccountResourcesExceeded{400, 10002, "resource limits exceeded for account"};
inline constexpr ErrDef BadRequest{400, 10003, "bad request"};
inline constexpr ErrDef ClusterNotAvail{503, 10008, "JetStream system temporarily unavailable"};
inline constexpr ErrDef ClusterNotLeader{500, 10009, "JetStream cluster can not handle request"};
inline constexpr ErrDef ClusterRequired{503, 10010, "JetStream clustering support required"};
inline constexpr ErrDef ClusterTags{400, 10011, "tags placement not supported for operation"};
inline constexpr ErrDef ClusterNoPeers{400, 10005, "{err}"};
inline constexpr ErrDef InsufficientResources{503, 10023, "insufficient resources"};
inline constexpr ErrDef ClusterServerNotMember{400, 10044, "server is not a member of the cluster"};
inline constexpr ErrDef ClusterPeerNotMember{400, 10040, "peer not a member"};
inline constexpr ErrDef PeerRemap{503, 10075, "peer remap failed"};
inline constexpr ErrDef StreamMoveAndScale{400, 10123, "can not move and scale a stream in a single update"};
inline constexpr ErrDef StreamMoveInProgress{400, 10124, "stream move already in progress: {msg}"};
inline constexpr ErrDef InvalidJSON{400, 10025, "invalid JSON: {err}"};
inline constexpr ErrDef MaximumConsumersLimit{400, 10026, "maximum consumers limit reached"};
inline constexpr ErrDef MaximumStreamsLimit{400, 10027, "maximum number of streams reached"};
inline constexpr ErrDef MemoryResourcesExceeded{500, 10028, "insufficient memory resources available"};
inline constexpr ErrDef NoAccount{503, 10035, "account not found"};
inline constexpr ErrDef ClusterUnSupportFeature{503, 10036, "not currently supported in clustered mode"};
inline constexpr ErrDef NoMessageFound{404, 10037, "no message found"};
inline constexpr ErrDef NotEmptyRequest{400, 10038, "expected an empty request payload"};
inline constexpr ErrDef NotEnabledForAccount{503, 10039, "JetStream not enabled for account"};
inline constexpr ErrDef NotEnabled{503, 10076, "JetStream not enabled"};
inline constexpr ErrDef SequenceNotFound{400, 10043, "sequence {seq} not found"};
inline constexpr ErrDef StorageResourcesExceeded{500, 10047, "insufficient storage resources available"};
inline constexpr ErrDef ReplicasCountCannotBeNegative{400, 10133, "replicas count cannot be negative"};
inline constexpr ErrDef NoLimits{400, 10120, "no JetStream default or applicable tiered limit present"};

// Streams.
inline constexpr ErrDef StreamExternalApiOverlap{400, 10021, "stream external api prefix {prefix} must not overlap with {subject}"};
inline constexpr ErrDef StreamExternalDelPrefixOverlaps{400, 10022, "stream external delivery prefix {prefix} overlaps with stream subject {subject}"};
inline constexpr ErrDef MirrorMaxMessageSizeTooBig{400, 10030, "stream mirror must have max message size >= source"};
inline constexpr ErrDef MirrorWithSources{400, 10031, "stream mirrors can not also contain other sources"};
inline constexpr ErrDef MirrorWithStartSeqAndTime{400, 10032, "stream mirrors can not have both start seq and start time configured"};
inline constexpr ErrDef MirrorWithSubjectFilters{400, 10033, "stream mirrors can not contain filtered subjects"};
inline constexpr ErrDef MirrorWithSubjects{400, 10034, "stream mirrors can not contain subjects"};
inline constexpr ErrDef StreamInvalidExternalDeliverySubj{400, 10024, "stream external delivery prefix {prefix} must not contain wildcards"};
inline constexpr ErrDef SourceMaxMessageSizeTooBig{400, 10046, "stream source must have max message size >= target"};
inline constexpr ErrDef StreamAssignment{500, 10048, "{err}"};
inline constexpr ErrDef StreamCreate{500, 10049, "{err}"};
inline constexpr ErrDef StreamDelete{500, 10050, "{err}"};
inline constexpr ErrDef StreamGeneral{500, 10051, "{err}"};
inline constexpr ErrDef StreamInvalidConfig{500, 10052, "{err}"};
inline constexpr ErrDef StreamLimits{500, 10053, "{err}"};
inline constexpr ErrDef StreamMessageExceedsMaximum{400, 10054, "message size exceeds maximum allowed"};
inline constexpr ErrDef StreamMirrorNotUpdatable{400, 10055, "stream mirror configuration can not be updated"};
inline constexpr ErrDef StreamMismatch{400, 10056, "stream name in subject does not match request"};
inline constexpr ErrDef StreamMsgDeleteFailed{500, 10057, "{err}"};
inline constexpr ErrDef StreamNameExist{400, 10058, "stream name already in use with a different configuration"};
inline constexpr ErrDef StreamNotFound{404, 10059, "stream not found"};
inline constexpr ErrDef StreamNotMatch{400, 10060, "expected stream does not match"};
inline constexpr ErrDef StreamReplicasNotUpdatable{400, 10061, "Replicas configuration can not be updated"};
inline constexpr ErrDef StreamSequenceNotMatch{503, 10063, "expected stream sequence does not match"};
inline constexpr ErrDef StreamSubjectOverlap{400, 10065, "subjects overlap with an existing stream"};
inline constexpr ErrDef StreamUpdate{500, 10069, "{err}"};
inline constexpr ErrDef StreamWrongLastMsgID{400, 10070, "wrong last msg ID: {id}"};
inline constexpr ErrDef StreamWrongLastSequence{400, 10071, "wrong last sequence: {seq}"};
inline constexpr ErrDef StreamReplicasNotSupported{500, 10074, "replicas > 1 not supported in non-clustered mode"};
inline constexpr ErrDef StreamStoreFailed{503, 10077, "{err}"};
inline constexpr ErrDef StreamInvalid{500, 10096, "stream not valid"};
inline constexpr ErrDef StreamHeaderExceedsMaximum{400, 10097, "header size exceeds maximum allowed of 64k"};
inline constexpr ErrDef StreamSealed{400, 10109, "invalid operation on sealed stream"};
inline constexpr ErrDef StreamPurgeFailed{500, 10110, "{err}"};
inline constexpr ErrDef StreamRollupFailed{500, 10111, "{err}"};
inline constexpr ErrDef StreamMaxBytesRequired{400, 10113, "account requires a stream config to have max bytes set"};
inline constexpr ErrDef StreamInfoMaxSubjects{500, 10117, "subject details would exceed maximum allowed"};
inline constexpr ErrDef StreamMaxStreamBytesExceeded{400, 10122, "stream max bytes exceeds account limit max stream bytes"};
inline constexpr ErrDef StreamNameContainsPathSeparators{400, 10128, "Stream name can not contain path separators"};

// Consumers (for the consumer API).
inline constexpr ErrDef ConsumerCreate{500, 10012, "{err}"};
inline constexpr ErrDef ConsumerNameExist{400, 10013, "consumer name already in use"};
inline constexpr ErrDef ConsumerNotFound{404, 10014, "consumer not found"};
// Snapshots and restores (snapshot/snapshot_api.h).
inline constexpr ErrDef StreamSnapshotFailed{500, 10064, "snapshot failed: {err}"};
inline constexpr ErrDef StreamRestoreFailed{500, 10062, "restore failed: {err}"};
inline constexpr ErrDef TempStorageFailed{500, 10072, "JetStream unable to open temp storage for restore"};
inline constexpr ErrDef StreamNameExistRestoreFailed{400, 10130, "stream name already in use, cannot restore"};
inline constexpr ErrDef SnapshotDeliverSubjectInvalid{400, 10015, "deliver subject not valid"};
inline constexpr ErrDef ConsumerDurableNameNotInSubject{400, 10016, "consumer expected to be durable but no durable name set in subject"};
inline constexpr ErrDef ConsumerDurableNameNotMatchSubject{400, 10017, "consumer name in subject does not match durable name in request"};
inline constexpr ErrDef ConsumerDurableNameNotSet{400, 10018, "consumer expected to be durable but a durable name was not set"};
inline constexpr ErrDef ConsumerEphemeralWithDurableInSubject{400, 10019, "consumer expected to be ephemeral but detected a durable name set in subject"};
inline constexpr ErrDef ConsumerEphemeralWithDurableName{400, 10020, "consumer expected to be ephemeral but a durable name was set in request"};
inline constexpr ErrDef ConsumerConfigRequired{400, 10078, "consumer config required"};
inline constexpr ErrDef ConsumerDeliverToWildcards{400, 10079, "consumer deliver subject has wildcards"};
inline constexpr ErrDef ConsumerPushMaxWaiting{400, 10080, "consumer in push mode can not set max waiting"};
inline constexpr ErrDef ConsumerDeliverCycle{400, 10081, "consumer deliver subject forms a cycle"};
inline constexpr ErrDef ConsumerMaxPendingAckPolicyRequired{400, 10082, "consumer requires ack policy for max ack pending"};
inline constexpr ErrDef ConsumerSmallHeartbeat{400, 10083, "consumer idle heartbeat needs to be >= 100ms"};
inline constexpr ErrDef ConsumerPullRequiresAck{400, 10084, "consumer in pull mode requires explicit ack policy on workqueue stream"};
inline constexpr ErrDef ConsumerPullNotDurable{400, 10085, "consumer in pull mode requires a durable name"};
inline constexpr ErrDef ConsumerPullWithRateLimit{400, 10086, "consumer in pull mode can not have rate limit set"};
inline constexpr ErrDef ConsumerMaxWaitingNegative{400, 10087, "consumer max waiting needs to be positive"};
inline constexpr ErrDef ConsumerHBRequiresPush{400, 10088, "consumer idle heartbeat requires a push based consumer"};
inline constexpr ErrDef ConsumerFCRequiresPush{400, 10089, "consumer flow control requires a push based consumer"};
inline constexpr ErrDef ConsumerDirectRequiresPush{400, 10090, "consumer direct requires a push based consumer"};
inline constexpr ErrDef ConsumerDirectRequiresEphemeral{400, 10091, "consumer direct requires an ephemeral consumer"};
inline constexpr ErrDef ConsumerOnMapped{400, 10092, "consumer direct on a mapped consumer"};
inline constexpr ErrDef ConsumerFilterNotSubset{400, 10093, "consumer filter subject is not a valid subset of the interest subjects"};
inline constexpr ErrDef ConsumerInvalidPolicy{400, 10094, "{err}"};
inline constexpr ErrDef ConsumerInvalidSampling{400, 10095, "failed to parse consumer sampling configuration: {err}"};
inline constexpr ErrDef ConsumerWQRequiresExplicitAck{400, 10098, "workqueue stream requires explicit ack"};
inline constexpr ErrDef ConsumerWQMultipleUnfiltered{400, 10099, "multiple non-filtered consumers not allowed on workqueue stream"};
inline constexpr ErrDef ConsumerWQConsumerNotUnique{400, 10100, "filtered consumer not unique on workqueue stream"};
inline constexpr ErrDef ConsumerWQConsumerNotDeliverAll{400, 10101, "consumer must be deliver all on workqueue stream"};
inline constexpr ErrDef ConsumerNameTooLong{400, 10102, "consumer name is too long, maximum allowed is {max}"};
inline constexpr ErrDef ConsumerBadDurableName{400, 10103, "durable name can not contain '.', '*', '>'"};
inline constexpr ErrDef ConsumerStoreFailed{500, 10104, "error creating store for consumer: {err}"};
inline constexpr ErrDef ConsumerExistingActive{400, 10105, "consumer already exists and is still active"};
inline constexpr ErrDef ConsumerReplacementWithDifferentName{400, 10106, "consumer replacement durable config not the same"};
inline constexpr ErrDef ConsumerDescriptionTooLong{400, 10107, "consumer description is too long, maximum allowed is {max}"};
inline constexpr ErrDef ConsumerWithFlowControlNeedsHeartbeats{400, 10108, "consumer with flow control also needs heartbeats"};
inline constexpr ErrDef ConsumerInvalidDeliverSubject{400, 10112, "invalid push consumer deliver subject"};
inline constexpr ErrDef ConsumerMaxRequestBatchNegative{400, 10114, "consumer max request batch needs to be > 0"};
inline constexpr ErrDef ConsumerMaxRequestExpiresTooSmall{400, 10115, "consumer max request expires needs to be >= 1ms"};
inline constexpr ErrDef ConsumerMaxDeliverBackoff{400, 10116, "max deliver is required to be > length of backoff values"};
inline constexpr ErrDef ConsumerMaxPendingAckExcess{400, 10121, "consumer max ack pending exceeds system limit of {limit}"};
inline constexpr ErrDef ConsumerMaxRequestBatchExceeded{400, 10125, "consumer max request batch exceeds server limit of {limit}"};
inline constexpr ErrDef ConsumerReplicasExceedsStream{400, 10126, "consumer config replica count exceeds parent stream"};
inline constexpr ErrDef ConsumerNameContainsPathSeparators{400, 10127, "Consumer name can not contain path separators"};
inline constexpr ErrDef ConsumerCreateFilterSubjectMismatch{400, 10131, "Consumer create request did not match filtered subject from create subject"};
inline constexpr ErrDef ConsumerCreateDurableAndNameMismatch{400, 10132, "Consumer Durable and Name have to be equal if both are provided"};
inline constexpr ErrDef ConsumerReplicasShouldMatchStream{400, 10134, "consumer config replicas must match interest retention stream's replicas"};
}  // namespace err

}  // namespace nats::jetstream
