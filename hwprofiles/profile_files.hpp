// The profile files of the user's directories (--hw-dir, $ATTNSIM_HW_PATH): which files are read,
// and a directory that is none refused saying what it is instead.
#pragma once

#include <filesystem>
#include <vector>

namespace hw {

// The user directories' .json files in order (each directory's sorted), each id defined once: two
// files claiming one id are refused naming both (the same file reached twice is read once). A
// path that is no directory (missing, a file, empty, a link loop) and a .json entry that cannot be
// looked at are refused (ProfileError); a link to nothing is skipped.
std::vector<std::filesystem::path> user_profile_files(
    const std::vector<std::filesystem::path>& user_dirs);

}  // namespace hw
