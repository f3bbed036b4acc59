# score.R: the scoring script of day 1's R service (the R twin of score.py).
#
# The lesson step day1-deploy/deploy names it in the inference config:
#   inference_config(entry_script = "score.R", source_directory = "score", environment = env)
# and day1-deploy/scoring-script shows the code below. azuremlsdk's R web server sources
# this file, calls init() once when the service starts, and then calls the function that
# init() returns once per request, with the request body as a JSON string. The model is the
# registered outputs/model.rds of the best training run (train/model1.R .. model5.R); the
# service puts it in the folder named by AZUREML_MODEL_DIR.
#
# Request:  {"data": [{"vendorID": "1", "passengerCount": 1, "tripDistance": 4.2,
#                      "month_num": "1", "day_of_month": "4", "day_of_week": "1", "hour_of_day": "18"}]}
# Response: one predicted total fare per trip, e.g. [18.23]
# A factor model knows only the levels it was trained on: a trip on the 31st (the course's
# data has none) is refused with R's "factor day_of_month has new levels 31".

init <- function() {
  model <- readRDS(file.path(Sys.getenv("AZUREML_MODEL_DIR"), "model.rds"))
  function(data) {
    trips <- jsonlite::fromJSON(data)$data
    factors <- names(model$xlevels)   # the factor columns: "1" and 1 both work
    trips[factors] <- lapply(trips[factors], as.character)
    jsonlite::toJSON(as.numeric(predict(model, newdata = trips)))
  }
}
