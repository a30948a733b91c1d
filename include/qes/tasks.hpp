#pragma once
// Tasks: problems, prompts and rewards (Countdown as the QES paper scores it,
// and a JSONL task for the user's own data). See the headers for the details.
#include "qes/tasks/arithmetic.hpp"
#include "qes/tasks/countdown.hpp"
#include "qes/tasks/jsonl_task.hpp"
#include "qes/tasks/make_task.hpp"
#include "qes/tasks/task.hpp"
