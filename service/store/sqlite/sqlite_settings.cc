#include "service/store/sqlite/sqlite_settings.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "service/store/details_sealing.h"

namespace sessiond {

absl::StatusOr<StoredSetting> ReadSetting(SqliteDb& db, Sealer* sealer,
                                          absl::string_view name) {
  absl::StatusOr<SqliteStatement> select =
      db.Prepare("SELECT value, key_id FROM settings WHERE name = :name");
  if (!select.ok()) return select.status();
  if (absl::Status s = select->BindText(":name", name); !s.ok()) return s;
  absl::StatusOr<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("no setting ", name));
  const absl::string_view key_id = select->ColumnText(1);
  absl::StatusOr<std::string> value =
      OpenStoredValue(sealer, absl::StrCat("setting ", name),
                      SettingContext(name), key_id, select->ColumnBlob(0));
  if (!value.ok()) return value.status();
  StoredSetting setting;
  setting.value = std::move(*value);
  setting.needs_reseal = sealer != nullptr && key_id != sealer->key_id();
  return setting;
}

absl::Status WriteSetting(SqliteDb& db, Sealer* sealer, absl::string_view name,
                          absl::string_view value) {
  absl::StatusOr<SqliteStatement> insert = db.Prepare(
      "INSERT OR REPLACE INTO settings (name, value, key_id) "
      "VALUES (:name, :value, :key_id)");
  if (!insert.ok()) return insert.status();
  std::string stored(value);
  if (sealer != nullptr) {
    absl::StatusOr<std::string> sealed =
        sealer->Seal(SettingContext(name), value);
    if (!sealed.ok()) return sealed.status();
    stored = std::move(*sealed);
  }
  absl::Status s = insert->BindText(":name", name);
  if (s.ok()) s = insert->BindBlob(":value", stored);
  // NULL key_id: in clear.
  if (s.ok() && sealer != nullptr)
    s = insert->BindText(":key_id", sealer->key_id());
  if (!s.ok()) return s;
  return insert->Run();
}

}  // namespace sessiond
