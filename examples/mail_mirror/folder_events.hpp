// The folder events that mail_load queues itself (pgqpp::insert_event, in the transaction
// that changes the folder) and mirror_writer applies. Data: JSON {"id": <folder id>,
// "name": <name>} ("name" not for delete).
#pragma once

namespace mail::folder_event {

inline constexpr const char* create = "folder.create";
inline constexpr const char* rename = "folder.rename";
/// The folder is empty by then: its letters were moved in the same transaction, before.
inline constexpr const char* remove = "folder.delete";

}  // namespace mail::folder_event
