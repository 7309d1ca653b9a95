// Internal: how each schedule file adds its entries to the table in schedule.cpp.
#pragma once

#include <vector>

#include "sim/schedule.hpp"

namespace sim {

void add_fa2_schedules(std::vector<ScheduleInfo>& table);
void add_hopper_blackwell_schedules(std::vector<ScheduleInfo>& table);
void add_other_schedules(std::vector<ScheduleInfo>& table);
void add_cpu_schedules(std::vector<ScheduleInfo>& table);
void add_flashmla_schedules(std::vector<ScheduleInfo>& table);

void lower_fa2_backward(const ScheduleInput& in, Launches& out);
void lower_fa3_backward(const ScheduleInput& in, Launches& out);
void lower_ascend_backward(const ScheduleInput& in, Launches& out);
void lower_gemm(const ScheduleInput& in, Launches& out);
void lower_elementwise(const ScheduleInput& in, Launches& out);
void lower_scan(const ScheduleInput& in, Launches& out);

}  // namespace sim
