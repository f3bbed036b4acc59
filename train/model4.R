# model4.R: day 1, model 4 ("full").
# Every feature. vendorID and the four time columns are factors: hour 18 is a category of
# its own, not "18 times the effect of hour 1".
#
# One of the five training scripts of day 1 (train/model1.R .. model5.R differ only in
# their formula). The lesson step day1-training/train-five submits each one as a run on the
# cluster with an azuremlsdk estimator:
#   estimator(source_directory = "train", entry_script = "model4.R",
#             script_params = list("--data_folder" = ds$path("<you>-greentaxi")), ...)
# It reads green_taxi_prepared.csv from that folder, fits a linear model on a random 80%
# of the trips, logs R^2, RMSE Train and RMSE Test to the run, and saves the model as
# outputs/model.rds, which later steps download, register and deploy with score/score.R.
# By hand, in train/: Rscript model4.R --data_folder <the folder holding the csv>

library(azuremlsdk)
library(optparse)

options <- list(
  make_option("--data_folder", default = ".", help = "folder holding green_taxi_prepared.csv")
)
opt <- parse_args(OptionParser(option_list = options))

trips <- read.csv(file.path(opt$data_folder, "green_taxi_prepared.csv"))

# Categories become factors before the split, so both halves know every level.
factors <- c("vendorID", "month_num", "day_of_month", "day_of_week", "hour_of_day")
trips[factors] <- lapply(trips[factors], factor)

# 80/20 random split. The same seed in all five scripts: every model sees the same trips.
set.seed(0)
in_train <- sample(nrow(trips), round(0.8 * nrow(trips)))
train <- trips[in_train, ]
test <- trips[-in_train, ]

model <- lm(totalAmount ~ tripDistance + passengerCount + vendorID +
                month_num + day_of_month + day_of_week + hour_of_day,
            data = train)

# R^2 on the test trips (summary(model) shows it on the training trips).
rmse <- function(actual, predicted) sqrt(mean((actual - predicted)^2))
predicted <- predict(model, newdata = test)
r2 <- 1 - sum((test$totalAmount - predicted)^2) / sum((test$totalAmount - mean(test$totalAmount))^2)

log_metric_to_run("R^2", r2)
log_metric_to_run("RMSE Train", rmse(train$totalAmount, fitted(model)))
log_metric_to_run("RMSE Test", rmse(test$totalAmount, predicted))

# Everything a run writes under outputs/ is kept with the run.
dir.create("outputs", showWarnings = FALSE)
saveRDS(model, file = "outputs/model.rds")
