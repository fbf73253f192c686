/* eider
description: The iris data set, read from iris.csv
group: iris
checks:
  - not_null: [species]
    blocking: true
  - accepted_values: {column: species, values: [Iris-setosa, Iris-versicolor, Iris-virginica]}
  - row_count: {min: 150, max: 150}
*/
SELECT *
FROM read_csv('iris.csv', header = false, columns = {
    'sepal_length_cm': 'DOUBLE', 'sepal_width_cm': 'DOUBLE',
    'petal_length_cm': 'DOUBLE', 'petal_width_cm': 'DOUBLE', 'species': 'VARCHAR'})
